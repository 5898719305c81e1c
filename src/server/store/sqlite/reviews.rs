//! Access review campaigns in SQLite.

use super::*;
use crate::host::sync::Unpoisoned;

/// Whether campaign `id` of `app` exists and is open, read inside `tx` (which holds the write
/// lock, so it stays so until `tx` ends).
pub(super) fn review_open(
    tx: &rusqlite::Transaction<'_>,
    app: &str,
    id: i64,
) -> Result<(), DecideError> {
    let closed: Option<Option<i64>> = tx
        .query_row(
            "SELECT closed_at FROM reviews WHERE app = ?1 AND id = ?2",
            params![app, id],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| DecideError::Store(failed(e)))?;
    campaign_open(closed)
}

/// A review with its line counts (followed by a WHERE and GROUP BY).
pub(super) fn review_select() -> String {
    format!(
        "SELECT r.id, r.app, r.scope, r.version, r.opened_by, r.opened_at, r.closed_by,
           r.closed_at, r.outcome, COUNT(l.n), SUM(l.decision != ''),
           SUM(l.decision IN {REVOKED})
         FROM reviews r LEFT JOIN review_lines l ON l.review = r.id"
    )
}

pub(super) fn row_review(r: &rusqlite::Row<'_>) -> rusqlite::Result<Review> {
    let json = |t: Option<String>| t.and_then(|t| serde_json::from_str(&t).ok());
    let count = |v: Option<i64>| u64::try_from(v.unwrap_or(0)).unwrap_or(0);
    Ok(Review {
        id: r.get(0)?,
        app: r.get(1)?,
        scope: json(r.get(2)?).unwrap_or(Value::Null),
        version: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
        opened_by: r.get(4)?,
        opened_at: r.get(5)?,
        closed_by: r.get(6)?,
        closed_at: r.get(7)?,
        outcome: json(r.get(8)?),
        lines: count(r.get(9)?),
        decided: count(r.get(10)?),
        revoked: count(r.get(11)?),
    })
}

pub(super) fn review_lines(
    c: &Connection,
    filter: &str,
    p: impl rusqlite::Params,
) -> rusqlite::Result<Vec<ReviewLine>> {
    let mut stmt = c.prepare(&format!(
        "SELECT n, reviewer, line, decision, note, decided_by, decided_at FROM review_lines {filter} ORDER BY n"
    ))?;
    let rows = stmt.query_map(p, |r| {
        Ok(ReviewLine {
            n: r.get(0)?,
            reviewer: r.get(1)?,
            line: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or(Value::Null),
            decision: r.get(3)?,
            note: r.get(4)?,
            decided_by: r.get(5)?,
            decided_at: r.get(6)?,
        })
    })?;
    rows.collect()
}

impl ReviewStore for SqliteStore {
    fn open_review(&self, r: &NewReview) -> StoreResult<i64> {
        let mut conn = self.conn.locked();
        let tx = conn.transaction().map_err(failed)?;
        tx.execute(
            "INSERT INTO reviews (app, scope, version, opened_by, opened_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.app, r.scope.to_string(), sql_int(r.version), r.by, r.at],
        )
        .map_err(failed)?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO review_lines (review, n, reviewer, line) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(failed)?;
            for (n, (reviewer, line)) in r.lines.iter().enumerate() {
                stmt.execute(params![id, n as i64 + 1, reviewer, line.to_string()])
                    .map_err(failed)?;
            }
        }
        tx.commit().map_err(failed)?;
        Ok(id)
    }

    fn reviews(&self, app: &str) -> StoreResult<Vec<Review>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{} WHERE r.app = ?1 GROUP BY r.id ORDER BY r.id DESC",
                review_select()
            ))?;
            let rows = stmt.query_map(params![app], row_review)?;
            rows.collect()
        })
    }

    fn review(&self, app: &str, id: i64) -> StoreResult<Option<(Review, Vec<ReviewLine>)>> {
        self.with(|c| {
            let Some(review) = c
                .query_row(
                    &format!(
                        "{} WHERE r.app = ?1 AND r.id = ?2 GROUP BY r.id",
                        review_select()
                    ),
                    params![app, id],
                    row_review,
                )
                .optional()?
            else {
                return Ok(None);
            };
            let lines = review_lines(c, "WHERE review = ?1", params![id])?;
            Ok(Some((review, lines)))
        })
    }

    fn lines_for(&self, reviewer: &str) -> StoreResult<Vec<(Review, Vec<ReviewLine>)>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "{} WHERE r.closed_at IS NULL AND r.id IN
                   (SELECT review FROM review_lines WHERE reviewer = ?1) GROUP BY r.id ORDER BY r.id",
                review_select()
            ))?;
            let open: Vec<Review> = stmt.query_map(params![reviewer], row_review)?.collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for r in open {
                let lines = review_lines(c, "WHERE review = ?1 AND reviewer = ?2", params![r.id, reviewer])?;
                out.push((r, lines));
            }
            Ok(out)
        })
    }

    fn decide(&self, app: &str, id: i64, d: &Decisions) -> Result<usize, DecideError> {
        let mut conn = self.conn.locked();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| DecideError::Store(failed(e)))?;
        review_open(&tx, app, id)?;
        let mut n = 0;
        for (line, decision, note) in &d.lines {
            let reviewer: Option<String> = tx
                .query_row(
                    "SELECT reviewer FROM review_lines WHERE review = ?1 AND n = ?2",
                    params![id, line],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| DecideError::Store(failed(e)))?;
            may_decide(d, *line, reviewer.as_deref())?;
            tx.execute(
                "UPDATE review_lines SET decision = ?3, note = ?4, decided_by = ?5, decided_at = ?6
                 WHERE review = ?1 AND n = ?2",
                params![id, line, decision, note, d.by, d.at],
            )
            .map_err(|e| DecideError::Store(failed(e)))?;
            n += 1;
        }
        tx.commit().map_err(|e| DecideError::Store(failed(e)))?;
        Ok(n)
    }

    fn close_review(
        &self,
        app: &str,
        id: i64,
        make: &mut dyn FnMut(&[ReviewLine]) -> Option<ReviewClose>,
    ) -> Result<Option<u64>, CloseError> {
        let store = |e| CloseError::Refused(DecideError::Store(failed(e)));
        let mut conn = self.conn.locked();
        // Immediate: the transaction holds the write lock from here, so no decision is
        // stored between reading the lines and closing.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(store)?;
        review_open(&tx, app, id).map_err(CloseError::Refused)?;
        let lines = review_lines(&tx, "WHERE review = ?1", params![id]).map_err(store)?;
        let Some(c) = make(&lines) else {
            return Ok(None);
        };
        let revision = write_draft(&tx, app, &c.by, &c.draft, Some(c.expected))?;
        tx.execute(
            "UPDATE reviews SET closed_by = ?3, closed_at = ?4, outcome = ?5
             WHERE app = ?1 AND id = ?2",
            params![app, id, c.by, c.at, c.outcome.to_string()],
        )
        .map_err(store)?;
        tx.commit().map_err(store)?;
        Ok(Some(revision))
    }
}
