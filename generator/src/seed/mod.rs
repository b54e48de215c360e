//! `generator seed`: a realistic synthetic sample, the same for the same
//! `--seed` and `--states`.
//!
//! - [`zips`]: every US zip code with state, county and city (embedded);
//! - [`plans`] and [`features`]: drug plans laid out like the real market;
//! - [`people`]: beneficiaries and their enrollment history;
//! - [`users`]: demo logins with argon2id hashes;
//! - [`drugs`]: drugs, shared formularies, prices and tier costs;
//! - [`sample`] puts them together, [`load`] COPYs them in one transaction;
//! - [`cms`] writes the drug data as CMS Part D public-use files
//!   (`--cms-out`), the input of `generator import-cms`.
//!
//! Demo logins (password [`users::DEMO_PASSWORD`]): `demo01`…`demo25` have a
//! current plan, `demo-noplan` has none, `legacy01` still has a bcrypt hash.

pub mod cms;
pub mod drugs;
pub mod features;
pub mod load;
pub mod people;
pub mod plans;
pub mod rng;
pub mod sample;
pub mod users;
pub mod vocab;
pub mod zips;

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use whatever_database::DatabaseConfig;

use crate::{Error, Result};
use sample::{Sample, select_states};
use zips::ZipTable;

/// Flags of `generator seed`.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Seed of the random generator: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these states (comma-separated postal codes, e.g. MA,NY);
    /// default: every state, territory and military region.
    #[arg(long, value_delimiter = ',')]
    pub states: Vec<String>,
    /// Empty the seed tables first (TRUNCATE … CASCADE, which also empties
    /// tables that reference them) instead of refusing a database that
    /// already holds data.
    #[arg(long)]
    pub replace: bool,
    /// Also write the sample's drug data into this directory as the CMS
    /// Part D public-use files `generator import-cms` reads (plan
    /// information, basic drugs formulary, beneficiary cost, pricing, and
    /// our drug names file).
    #[arg(long, value_name = "DIR")]
    pub cms_out: Option<std::path::PathBuf>,
}

/// What a seed loaded, printed as one JSON line on stdout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedSummary {
    /// The `--seed` used.
    pub seed: u64,
    /// How many states were seeded.
    pub states: usize,
    /// Zip codes of those states.
    pub zips: usize,
    /// Rows of `plan`.
    pub plan: u64,
    /// Rows of `plan_feature`.
    pub plan_feature: u64,
    /// Rows of `plan_to_zip`.
    pub plan_to_zip: u64,
    /// Rows of `beneficiary`.
    pub beneficiary: u64,
    /// Rows of `beneficiary_to_plan`.
    pub beneficiary_to_plan: u64,
    /// Rows of `"user"`.
    pub user: u64,
    /// Rows of `formulary`.
    pub formulary: u64,
    /// Rows of `drug`.
    pub drug: u64,
    /// Rows of `formulary_drug`.
    pub formulary_drug: u64,
    /// Rows of `plan_tier_cost`.
    pub plan_tier_cost: u64,
    /// Rows of `drug_price`.
    pub drug_price: u64,
    /// Rows written per CMS file, with `--cms-out`.
    pub cms_files: Option<cms::CmsWritten>,
    /// Seconds spent generating plans and people.
    pub generate_seconds: f64,
    /// Seconds spent hashing passwords.
    pub hash_seconds: f64,
    /// Seconds spent in COPY and commit.
    pub load_seconds: f64,
    /// Wall time of the whole command.
    pub seconds: f64,
}

/// Runs `generator seed` and prints its summary line.
pub async fn run(args: &SeedArgs, db: &DatabaseConfig) -> Result<()> {
    let summary = seed(args, db).await?;
    println!("{}", crate::batch::report::line(&summary));
    Ok(())
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn spinner(message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Migrates the database, then loads the sample into it; refuses a
/// database that already has data unless `--replace`.
pub async fn seed(args: &SeedArgs, db: &DatabaseConfig) -> Result<SeedSummary> {
    let started = Instant::now();
    whatever_database::migrations::migrate(db).await?;
    let table = ZipTable::embedded()?;
    let states = select_states(&table, &args.states)?;
    let mut client = db.connect().await?;
    let tx = client
        .transaction()
        .await
        .map_err(Error::query("starting the seed transaction"))?;
    // Before any slow work: a refusal should be instant.
    load::prepare(&tx, db.dbname(), args.replace).await?;

    let seed = args.seed;
    let bar = spinner("generating plans and people");
    let clock = Instant::now();
    let (mut sample, table_states) = tokio::task::spawn_blocking(move || {
        let sample = Sample::generate(seed, &table, &states);
        (sample, states)
    })
    .await
    .expect("sample generation does not panic");
    let generate_seconds = secs(clock.elapsed());
    bar.finish_and_clear();

    let bar = spinner("hashing demo passwords (argon2id)");
    let clock = Instant::now();
    sample = tokio::task::spawn_blocking(move || sample.add_users(seed).map(|()| sample))
        .await
        .expect("password hashing does not panic")?;
    let hash_seconds = secs(clock.elapsed());
    bar.finish_and_clear();

    let total = (sample.plans.len()
        + sample.feature_count()
        + sample.coverage_count()
        + sample.beneficiaries.len()
        + sample.enrollments.len()
        + sample.users.len()
        + sample.drugs.formularies.len()
        + sample.drugs.drugs.len() * 3
        + sample.drugs.placement_count()
        + sample.drugs.tier_costs.len()) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} {msg:20} [{bar:40}] {human_pos}/{human_len} rows ({eta})",
        )
        .expect("a valid progress template")
        .progress_chars("=> "),
    );
    let clock = Instant::now();
    let written = load::copy_sample(&tx, &sample, &bar).await?;
    bar.set_message("committing");
    tx.commit()
        .await
        .map_err(Error::query("committing the seed transaction"))?;
    let load_seconds = secs(clock.elapsed());
    bar.finish_and_clear();

    let cms_files = match &args.cms_out {
        Some(dir) => {
            let bar = spinner("writing the CMS files");
            let written = cms::write_cms(dir, &sample.plans, &sample.drugs)?;
            bar.finish_and_clear();
            tracing::info!(dir = %dir.display(), ?written, "wrote the drug sample as CMS files");
            Some(written)
        }
        None => None,
    };

    let summary = SeedSummary {
        seed,
        states: table_states.len(),
        zips: sample.zip_count,
        plan: written[0],
        plan_feature: written[1],
        plan_to_zip: written[2],
        beneficiary: written[3],
        beneficiary_to_plan: written[4],
        user: written[5],
        formulary: written[6],
        drug: written[7],
        formulary_drug: written[8],
        plan_tier_cost: written[9],
        drug_price: written[10],
        cms_files,
        generate_seconds,
        hash_seconds,
        load_seconds,
        seconds: secs(started.elapsed()),
    };
    tracing::info!(
        database = db.dbname(),
        seed,
        states = summary.states,
        zips = summary.zips,
        plan = summary.plan,
        plan_feature = summary.plan_feature,
        plan_to_zip = summary.plan_to_zip,
        beneficiary = summary.beneficiary,
        beneficiary_to_plan = summary.beneficiary_to_plan,
        user = summary.user,
        seconds = summary.seconds,
        "seeded"
    );
    Ok(summary)
}
