//! Loading the sample with COPY, all tables in one transaction: either the
//! whole sample is there or none of it.

use bytes::Bytes;
use futures::SinkExt;
use indicatif::ProgressBar;
use tokio_postgres::Transaction;

use super::sample::Sample;
use crate::batch::copy_text::Line;
use crate::drugs::money::Cents;
use crate::{Error, Result};

/// The seed tables, in the order they are filled (referenced ones first).
pub const TABLES: &[&str] = &[
    "plan",
    "plan_feature",
    "plan_to_zip",
    "beneficiary",
    "beneficiary_to_plan",
    "\"user\"",
    "formulary",
    "drug",
    "formulary_drug",
    "plan_tier_cost",
    "drug_price",
];

/// Rows the database holds in each seed table, in [`TABLES`] order.
pub async fn row_counts(tx: &Transaction<'_>) -> Result<Vec<i64>> {
    let sql = TABLES
        .iter()
        .map(|t| format!("(SELECT count(*) FROM {t})"))
        .collect::<Vec<_>>()
        .join(", ");
    let row = tx
        .query_one(&format!("SELECT {sql}"), &[])
        .await
        .map_err(Error::query("counting the rows of the seed tables"))?;
    Ok((0..TABLES.len()).map(|i| row.get(i)).collect())
}

/// Refuses a database that already holds data, unless `replace`, in which
/// case the seed tables are emptied first.
pub async fn prepare(tx: &Transaction<'_>, database: &str, replace: bool) -> Result<()> {
    let counts = row_counts(tx).await?;
    if counts.iter().all(|&c| c == 0) {
        return Ok(());
    }
    if !replace {
        let held = TABLES
            .iter()
            .zip(&counts)
            .filter(|(_, c)| **c > 0)
            .map(|(t, c)| format!("{c} {} rows", t.trim_matches('"')))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Error::Invalid(format!(
            "database {database} already has {} plans ({held}); seed loads into an empty \
             database — drop it, use a new DATABASE_URL, or pass --replace to empty the seed \
             tables first",
            counts[0]
        )));
    }
    tracing::warn!(
        database,
        "--replace: emptying the seed tables and the tables that reference them"
    );
    // CASCADE: tables added later (sessions, outbox) may reference these.
    tx.batch_execute(&format!("TRUNCATE {} CASCADE", TABLES.join(", ")))
        .await
        .map_err(Error::query("emptying the seed tables"))?;
    Ok(())
}

/// Copies every table of the sample; returns the rows written per table.
pub async fn copy_sample(
    tx: &Transaction<'_>,
    sample: &Sample,
    bar: &ProgressBar,
) -> Result<Vec<u64>> {
    let mut written = Vec::new();
    // Plans name their formulary: formularies and drugs go first, and are
    // reported after the others in [`TABLES`] order.
    let drugs = &sample.drugs;
    let formularies = copy(
        tx,
        bar,
        "formulary (formulary_id)",
        drugs.formularies.iter(),
        |line, (id, _)| line.text(id),
    )
    .await?;
    let drug_rows = copy(
        tx,
        bar,
        "drug (rxcui, name, generic_name, strength, dose_form, is_generic, is_insulin)",
        drugs.drugs.iter(),
        |line, d| {
            line.text(&d.rxcui);
            line.text(&d.name);
            line.text(&d.generic_name);
            line.text(&d.strength);
            line.text(&d.dose_form);
            line.raw(if d.is_generic { "t" } else { "f" });
            line.raw(if d.is_insulin { "t" } else { "f" });
        },
    )
    .await?;
    let plans = &sample.plans;
    let plan_formulary = |i: usize| {
        drugs
            .plan_formulary
            .get(i)
            .copied()
            .flatten()
            .map(|f| drugs.formularies[f].0.as_str())
    };
    written.push(
        copy(tx, bar, "plan (plan_id, plan_name, insurer_name, status, description, avg_monthly_cost, avg_copay_amount, annual_deductible, min_age, max_age, formulary_id)", plans.iter().enumerate(), |line, (i, p)| {
            line.text(&p.plan_id);
            line.text(&p.plan_name);
            line.text(&p.insurer_name);
            line.text(if p.active { "active" } else { "inactive" });
            line.text(&p.description);
            line.money(p.monthly_cents);
            line.money(p.copay_cents);
            line.money(p.deductible_cents);
            line.opt_int(p.min_age);
            line.opt_int(p.max_age);
            match plan_formulary(i) {
                Some(id) => line.text(id),
                None => line.null(),
            }
        })
        .await?,
    );
    let features = plans
        .iter()
        .flat_map(|p| p.features.iter().map(move |f| (&p.plan_id, f)));
    written.push(
        copy(
            tx,
            bar,
            "plan_feature (plan_id, feature_key, feature_value)",
            features,
            |line, (id, (k, v))| {
                line.text(id);
                line.text(k);
                line.text(v);
            },
        )
        .await?,
    );
    let coverage = plans
        .iter()
        .flat_map(|p| p.zips.iter().map(move |z| (&p.plan_id, z)));
    written.push(
        copy(
            tx,
            bar,
            "plan_to_zip (plan_id, zip_code)",
            coverage,
            |line, (id, zip)| {
                line.text(id);
                line.text(zip);
            },
        )
        .await?,
    );
    written.push(
        copy(tx, bar, "beneficiary (beneficiary_id, fname, lname, sex, ssn, birthdate, address, city, state, zip_code)", sample.beneficiaries.iter(), |line, b| {
            line.raw(&b.beneficiary_id.to_string());
            line.text(&b.fname);
            line.text(&b.lname);
            line.text(b.sex);
            line.text(&b.ssn);
            line.raw(&b.birthdate.to_string());
            line.text(&b.address);
            line.text(&b.city);
            line.text(&b.state);
            line.text(&b.zip_code);
        })
        .await?,
    );
    written.push(
        copy(
            tx,
            bar,
            "beneficiary_to_plan (beneficiary_id, plan_id, start_date, end_date)",
            sample.enrollments.iter(),
            |line, e| {
                line.raw(&e.beneficiary_id.to_string());
                line.text(&e.plan_id);
                line.raw(&e.start_date.to_string());
                match e.end_date {
                    Some(d) => line.raw(&d.to_string()),
                    None => line.null(),
                }
            },
        )
        .await?,
    );
    written.push(
        copy(
            tx,
            bar,
            "\"user\" (username, password, email, beneficiary_id)",
            sample.users.iter(),
            |line, u| {
                line.text(&u.username);
                line.text(&u.password);
                line.text(&u.email);
                line.raw(&u.beneficiary_id.to_string());
            },
        )
        .await?,
    );
    written.push(formularies);
    written.push(drug_rows);
    let placements = drugs
        .formularies
        .iter()
        .flat_map(|(id, list)| list.iter().map(move |p| (id, p)));
    written.push(
        copy(
            tx,
            bar,
            "formulary_drug (formulary_id, rxcui, tier, prior_authorization, step_therapy, quantity_limit_amount, quantity_limit_days)",
            placements,
            |line, (id, p)| {
                line.text(id);
                line.text(&drugs.drugs[p.drug].rxcui);
                line.raw(&p.tier.to_string());
                line.raw(if p.prior_authorization { "t" } else { "f" });
                line.raw(if p.step_therapy { "t" } else { "f" });
                match p.quantity_limit {
                    Some((amount, days)) => {
                        line.raw(&amount.to_string());
                        line.raw(&days.to_string());
                    }
                    None => {
                        line.null();
                        line.null();
                    }
                }
            },
        )
        .await?,
    );
    written.push(
        copy(
            tx,
            bar,
            "plan_tier_cost (plan_id, tier, pharmacy, days_supply, cost_type, amount, deductible_applies)",
            drugs.tier_costs.iter(),
            |line, c| {
                line.text(&plans[c.plan].plan_id);
                line.raw(&c.tier.to_string());
                line.raw(c.pharmacy.as_str());
                line.raw(&c.days.days().to_string());
                line.raw(if c.coinsurance { "coinsurance" } else { "copay" });
                // Hundredths of a percent print like cents: 2500 is 25.00.
                line.money(c.amount);
                line.raw(if c.deductible_applies { "t" } else { "f" });
            },
        )
        .await?,
    );
    let prices = drugs
        .drugs
        .iter()
        .flat_map(|d| d.priced().map(move |(days, Cents(cents))| (d, days, cents)));
    written.push(
        copy(
            tx,
            bar,
            "drug_price (rxcui, days_supply, full_cost)",
            prices,
            |line, (d, days, cents)| {
                line.text(&d.rxcui);
                line.raw(&days.days().to_string());
                line.money(cents);
            },
        )
        .await?,
    );
    Ok(written)
}

/// Chunks of about this many bytes go to the server at a time.
const CHUNK: usize = 1 << 20;

async fn copy<R>(
    tx: &Transaction<'_>,
    bar: &ProgressBar,
    target: &str,
    rows: impl Iterator<Item = R>,
    mut write: impl FnMut(&mut Line, R),
) -> Result<u64> {
    let table = target
        .split(' ')
        .next()
        .unwrap_or(target)
        .trim_matches('"')
        .to_string();
    bar.set_message(table.clone());
    let context = format!("copying rows into {table}");
    let sql = format!("COPY {target} FROM STDIN");
    let sink = tx
        .copy_in::<_, Bytes>(sql.as_str())
        .await
        .map_err(Error::query(context.clone()))?;
    let mut sink = std::pin::pin!(sink);
    let mut line = Line::default();
    let mut pending = 0u64;
    for row in rows {
        write(&mut line, row);
        line.end();
        pending += 1;
        if line.len() >= CHUNK {
            let chunk = Bytes::from(line.take());
            sink.send(chunk)
                .await
                .map_err(Error::query(context.clone()))?;
            bar.inc(pending);
            pending = 0;
        }
    }
    if !line.is_empty() {
        sink.send(Bytes::from(line.into_bytes()))
            .await
            .map_err(Error::query(context.clone()))?;
    }
    bar.inc(pending);
    sink.as_mut().finish().await.map_err(Error::query(context))
}
