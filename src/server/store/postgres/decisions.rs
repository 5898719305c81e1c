//! Decision events clients report in PostgreSQL.

use super::*;

impl DecisionStore for PostgresStore {
    fn prune_decisions(&self, before: i64) -> StoreResult<u64> {
        self.run(async {
            let rows = self
                .query(
                    "WITH gone AS (DELETE FROM decisions WHERE received_at < $1 RETURNING reported_by),
                          n AS (SELECT reported_by, count(*) AS c FROM gone GROUP BY reported_by),
                          t AS (UPDATE decision_totals SET n = decision_totals.n - n.c FROM n
                                WHERE decision_totals.reported_by = n.reported_by)
                     SELECT COALESCE(SUM(c), 0)::BIGINT FROM n",
                    &[&before],
                )
                .await?;
            Ok(rows.first().map_or(0, |r| count(r.get(0))))
        })
    }

    fn add_decisions(&self, user: &str, now_ms: i64, events: &[Reported]) -> StoreResult<Outcome> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            // One batch of a user's at a time: each is judged against the heads the last left.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('decisions:' || $1))", &[&user])
                .await
                .map_err(pg)?;
            let chains: Vec<&str> = events
                .iter()
                .filter_map(|e| e.chain.as_ref().map(|l| l.chain.as_str()))
                .collect();
            let hashes: Vec<&str> = events
                .iter()
                .filter_map(|e| e.chain.as_ref().map(|l| l.hash.as_str()))
                .collect();
            let plain: Vec<&str> = events
                .iter()
                .filter(|e| e.chain.is_none())
                .map(|e| e.event.as_str())
                .collect();
            // What is stored already, and each chain's head: three reads for the whole batch.
            let chained = tx
                .query(
                    "SELECT chain, hash FROM decisions WHERE reported_by = $1
                       AND chain = ANY($2) AND hash = ANY($3)",
                    &[&user, &chains, &hashes],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let plain = tx
                .query(
                    "SELECT event FROM decisions WHERE reported_by = $1 AND chain IS NULL
                       AND md5(event) IN (SELECT md5(e) FROM UNNEST($2::text[]) e)",
                    &[&user, &plain],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let heads = tx
                .query(
                    "SELECT chain, head FROM decision_chains WHERE reported_by = $1 AND chain = ANY($2)",
                    &[&user, &chains],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let judged = judge(
                events,
                Stored {
                    chained,
                    plain,
                    heads,
                },
            );
            let (mut ev, mut ch, mut hs, mut ln) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (e, link) in &judged.new {
                ev.push(e.event.as_str());
                ch.push(e.chain.as_ref().map(|l| l.chain.as_str()));
                hs.push(e.chain.as_ref().map(|l| l.hash.as_str()));
                ln.push(link.as_str());
            }
            if !ev.is_empty() {
                tx.execute(
                    "INSERT INTO decisions (reported_by, received_at, event, chain, hash, link)
                     SELECT $1, $2, e, c, h, l FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[])
                       AS t(e, c, h, l)",
                    &[&user, &now_ms, &ev, &ch, &hs, &ln],
                )
                .await
                .map_err(pg)?;
                let (names, tops): (Vec<&str>, Vec<&str>) =
                    judged.heads.iter().map(|(c, h)| (c.as_str(), h.as_str())).unzip();
                tx.execute(
                    "INSERT INTO decision_chains (reported_by, chain, head)
                     SELECT $1, c, h FROM UNNEST($2::text[], $3::text[]) AS t(c, h)
                     ON CONFLICT (reported_by, chain) DO UPDATE SET head = excluded.head",
                    &[&user, &names, &tops],
                )
                .await
                .map_err(pg)?;
                let added = i64::try_from(ev.len()).unwrap_or(i64::MAX);
                tx.execute(
                    "INSERT INTO decision_totals (reported_by, n) VALUES ($1, $2)
                     ON CONFLICT (reported_by) DO UPDATE SET n = decision_totals.n + excluded.n",
                    &[&user, &added],
                )
                .await
                .map_err(pg)?;
            }
            tx.commit().await.map_err(pg)?;
            Ok(judged.outcome)
        })
    }

    fn decision_count(&self, user: &str) -> StoreResult<u64> {
        self.run(async {
            Ok(self
                .query_opt(
                    "SELECT n FROM decision_totals WHERE reported_by = $1",
                    &[&user],
                )
                .await?
                .map_or(0, |r| count(r.get(0))))
        })
    }

    fn decisions(&self, limit: u32) -> StoreResult<Vec<Value>> {
        self.run(async {
            let rows = self
                .query(
                    "SELECT reported_by, received_at, event, link FROM decisions ORDER BY id DESC LIMIT $1",
                    &[&i64::from(limit)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "reported_by": r.get::<_, String>(0),
                        "received_at": r.get::<_, i64>(1),
                        "event": json(r.get(2)),
                        "link": r.get::<_, String>(3),
                    })
                })
                .collect())
        })
    }
}
