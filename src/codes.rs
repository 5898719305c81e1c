//! The one way a code enum is declared: each variant with its stable string and its meaning,
//! so the strings, the list of every code (`ALL`) and the documentation cannot drift apart.
//! `tests/codes.rs` writes the TypeScript `ErrorCode` union and docs/errors.md from them.

/// Declares a code enum: the variants with their docs and stable strings, `ALL`, `as_str`,
/// `doc`, `Display` and `Serialize` as the string.
macro_rules! codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[doc = $doc:literal])+ $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable string form: part of the public contract.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// What the code means (its doc comment).
            pub fn doc(self) -> &'static str {
                match self {
                    $($name::$variant => concat!($($doc),+),)+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A code equals its stable string (so callers and tests can compare with text).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}
