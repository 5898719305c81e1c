//! Decision events clients report in SQLite.

use super::*;

/// What [`judge`] needs to know of `events` from the database, read inside `tx`.
fn stored(tx: &Connection, user: &str, events: &[Reported]) -> rusqlite::Result<Stored> {
    let mut s = Stored::default();
    for e in events {
        match &e.chain {
            None => {
                let seen = tx
                    .query_row(
                        "SELECT 1 FROM decisions WHERE reported_by = ?1 AND chain IS NULL AND event = ?2",
                        params![user, e.event],
                        |_| Ok(()),
                    )
                    .optional()?;
                if seen.is_some() {
                    s.plain.insert(e.event.clone());
                }
            }
            Some(l) => {
                let seen = tx
                    .query_row(
                        "SELECT 1 FROM decisions WHERE reported_by = ?1 AND chain = ?2 AND hash = ?3",
                        params![user, l.chain, l.hash],
                        |_| Ok(()),
                    )
                    .optional()?;
                if seen.is_some() {
                    s.chained.insert((l.chain.clone(), l.hash.clone()));
                }
                if !s.heads.contains_key(&l.chain) {
                    let head: Option<String> = tx
                        .query_row(
                            "SELECT head FROM decision_chains WHERE reported_by = ?1 AND chain = ?2",
                            params![user, l.chain],
                            |r| r.get(0),
                        )
                        .optional()?;
                    if let Some(h) = head {
                        s.heads.insert(l.chain.clone(), h);
                    }
                }
            }
        }
    }
    Ok(s)
}

impl DecisionStore for SqliteStore {
    fn prune_decisions(&self, before: i64) -> StoreResult<u64> {
        self.with(|c| {
            c.execute(
                "DELETE FROM decisions WHERE received_at < ?1",
                params![before],
            )
            .map(|n| n as u64)
        })
    }

    fn add_decisions(&self, user: &str, now_ms: i64, events: &[Reported]) -> StoreResult<Outcome> {
        self.with(|c| {
            let tx = c.transaction()?;
            let judged = judge(events, stored(&tx, user, events)?);
            for (e, link) in &judged.new {
                let (chain, hash) = e.chain.as_ref().map(|l| (&l.chain, &l.hash)).unzip();
                tx.execute(
                    "INSERT INTO decisions (reported_by, received_at, event, chain, hash, link)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![user, now_ms, e.event, chain, hash, link.as_str()],
                )?;
            }
            for (chain, head) in &judged.heads {
                tx.execute(
                    "INSERT INTO decision_chains (reported_by, chain, head) VALUES (?1, ?2, ?3)
                     ON CONFLICT (reported_by, chain) DO UPDATE SET head = excluded.head",
                    params![user, chain, head],
                )?;
            }
            tx.commit()?;
            Ok(judged.outcome)
        })
    }

    fn decision_count(&self, user: &str) -> StoreResult<u64> {
        self.with(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM decisions WHERE reported_by = ?1",
                params![user],
                |r| r.get::<_, i64>(0),
            )
        })
        .map(|n| u64::try_from(n).unwrap_or(0))
    }

    fn decisions(&self, limit: u32) -> StoreResult<Vec<Value>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT reported_by, received_at, event, link FROM decisions ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit], |r| {
                let event: String = r.get(2)?;
                Ok(serde_json::json!({
                    "reported_by": r.get::<_, String>(0)?,
                    "received_at": r.get::<_, i64>(1)?,
                    "event": serde_json::from_str::<Value>(&event).unwrap_or(Value::Null),
                    "link": r.get::<_, String>(3)?,
                }))
            })?;
            rows.collect()
        })
    }
}
