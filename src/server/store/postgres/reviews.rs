//! Access review campaigns in PostgreSQL.

use super::*;

/// Whether campaign `id` of `app` exists and is open, its row locked until `tx` ends (what
/// `decide` and closing both take, so neither slips between the other's reads and writes).
pub(super) async fn review_open(
    tx: &tokio_postgres::Transaction<'_>,
    app: &str,
    id: i64,
) -> StoreResult<Result<(), DecideError>> {
    let closed: Option<Option<i64>> = tx
        .query_opt(
            "SELECT closed_at FROM reviews WHERE app = $1 AND id = $2 FOR UPDATE",
            &[&app, &id],
        )
        .await
        .map_err(pg)?
        .map(|r| r.get(0));
    Ok(campaign_open(closed))
}

pub(super) fn review_select() -> String {
    format!(
        "SELECT r.id, r.app, r.scope, r.version, r.opened_by, r.opened_at, r.closed_by,
           r.closed_at, r.outcome, COUNT(l.n),
           COALESCE(SUM(CASE WHEN l.decision <> '' THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN l.decision IN {REVOKED} THEN 1 ELSE 0 END), 0)
         FROM reviews r LEFT JOIN review_lines l ON l.review = r.id"
    )
}

pub(super) fn row_review(r: &Row) -> Review {
    Review {
        id: r.get(0),
        app: r.get(1),
        scope: json(r.get(2)),
        version: count(r.get(3)),
        opened_by: r.get(4),
        opened_at: r.get(5),
        closed_by: r.get(6),
        closed_at: r.get(7),
        outcome: r.get::<_, Option<String>>(8).map(|t| json(&t)),
        lines: count(r.get(9)),
        decided: count(r.get(10)),
        revoked: count(r.get(11)),
    }
}

pub(super) fn row_line(r: &Row) -> ReviewLine {
    ReviewLine {
        n: r.get(0),
        reviewer: r.get(1),
        line: json(r.get(2)),
        decision: r.get(3),
        note: r.get(4),
        decided_by: r.get(5),
        decided_at: r.get(6),
    }
}

pub(super) const LINES: &str =
    "SELECT n, reviewer, line, decision, note, decided_by, decided_at FROM review_lines";

impl ReviewStore for PostgresStore {
    fn open_review(&self, r: &NewReview) -> StoreResult<i64> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO reviews (app, scope, version, opened_by, opened_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&r.app, &r.scope.to_string(), &int(r.version), &r.by, &r.at],
                )
                .await
                .map_err(pg)?
                .get(0);
            let reviewers: Vec<&str> = r.lines.iter().map(|(who, _)| who.as_str()).collect();
            let lines: Vec<String> = r.lines.iter().map(|(_, l)| l.to_string()).collect();
            tx.execute(
                "INSERT INTO review_lines (review, n, reviewer, line)
                 SELECT $1, n, who, line FROM UNNEST($2::text[], $3::text[])
                   WITH ORDINALITY AS t(who, line, n)",
                &[&id, &reviewers, &lines],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(id)
        })
    }

    fn reviews(&self, app: &str) -> StoreResult<Vec<Review>> {
        self.run(async {
            let sql = format!(
                "{} WHERE r.app = $1 GROUP BY r.id ORDER BY r.id DESC",
                review_select()
            );
            Ok(self
                .query(&sql, &[&app])
                .await?
                .iter()
                .map(row_review)
                .collect())
        })
    }

    fn review(&self, app: &str, id: i64) -> StoreResult<Option<(Review, Vec<ReviewLine>)>> {
        self.run(async {
            let sql = format!(
                "{} WHERE r.app = $1 AND r.id = $2 GROUP BY r.id",
                review_select()
            );
            let Some(review) = self.query_opt(&sql, &[&app, &id]).await? else {
                return Ok(None);
            };
            let lines = self
                .query(&format!("{LINES} WHERE review = $1 ORDER BY n"), &[&id])
                .await?;
            Ok(Some((
                row_review(&review),
                lines.iter().map(row_line).collect(),
            )))
        })
    }

    fn lines_for(&self, reviewer: &str) -> StoreResult<Vec<(Review, Vec<ReviewLine>)>> {
        self.run(async {
            let sql = format!(
                "{} WHERE r.closed_at IS NULL AND r.id IN
                   (SELECT review FROM review_lines WHERE reviewer = $1) GROUP BY r.id ORDER BY r.id",
                review_select()
            );
            let mut out = Vec::new();
            for r in self.query(&sql, &[&reviewer]).await?.iter().map(row_review) {
                let lines = self
                    .query(
                        &format!("{LINES} WHERE review = $1 AND reviewer = $2 ORDER BY n"),
                        &[&r.id, &reviewer],
                    )
                    .await?;
                out.push((r, lines.iter().map(row_line).collect()));
            }
            Ok(out)
        })
    }

    fn decide(&self, app: &str, id: i64, d: &Decisions) -> Result<usize, DecideError> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await.map_err(pg)?;
            if let Err(e) = review_open(&tx, app, id).await? {
                return Ok(Err(e));
            }
            let mut n = 0;
            for (line, decision, note) in &d.lines {
                let reviewer: Option<String> = tx
                    .query_opt(
                        "SELECT reviewer FROM review_lines WHERE review = $1 AND n = $2",
                        &[&id, line],
                    )
                    .await
                    .map_err(pg)?
                    .map(|r| r.get(0));
                if let Err(e) = may_decide(d, *line, reviewer.as_deref()) {
                    return Ok(Err(e));
                }
                tx.execute(
                    "UPDATE review_lines SET decision = $3, note = $4, decided_by = $5,
                       decided_at = $6 WHERE review = $1 AND n = $2",
                    &[&id, line, decision, note, &d.by, &d.at],
                )
                .await
                .map_err(pg)?;
                n += 1;
            }
            tx.commit().await.map_err(pg)?;
            Ok(Ok(n))
        })
        .map_err(DecideError::Store)?
    }

    fn close_review(
        &self,
        app: &str,
        id: i64,
        make: &mut dyn FnMut(&[ReviewLine]) -> Option<ReviewClose>,
    ) -> Result<Option<u64>, CloseError> {
        self.run(async {
            let mut conn = self.client().await?;
            let tx = conn.transaction().await.map_err(pg)?;
            // The campaign's row, locked: `decide` takes the same lock, so no decision lands
            // between reading the lines here and closing.
            if let Err(e) = review_open(&tx, app, id).await? {
                return Ok(Err(CloseError::Refused(e)));
            }
            let lines: Vec<ReviewLine> = tx
                .query(&format!("{LINES} WHERE review = $1 ORDER BY n"), &[&id])
                .await
                .map_err(pg)?
                .iter()
                .map(row_line)
                .collect();
            let Some(c) = make(&lines) else {
                return Ok(Ok(None));
            };
            let revision = match write_draft(&tx, app, &c.by, &c.draft, Some(c.expected)).await? {
                Ok(r) => r,
                Err(e) => return Ok(Err(e.into())),
            };
            tx.execute(
                "UPDATE reviews SET closed_by = $3, closed_at = $4, outcome = $5
                 WHERE app = $1 AND id = $2",
                &[&app, &id, &c.by, &c.at, &c.outcome.to_string()],
            )
            .await
            .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok(Ok(Some(revision)))
        })
        .map_err(|e| CloseError::Refused(DecideError::Store(e)))?
    }
}
