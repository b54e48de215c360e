//! `generator import-cms DIR`: loads the drug data of the CMS Part D
//! public-use files (pipe-delimited; `docs/drug-data.md` lists the files,
//! the columns read and how they map to our tables), all or nothing.
//!
//! 1. find the five files ([`layout`]) and read each line by line,
//!    checking it against the layout and the files read before it
//!    ([`check`]); every problem names its file and line, and one refuses
//!    the whole set before the database is touched;
//! 2. COPY the rows into temporary tables ([`apply::stage`]);
//! 3. one transaction, under the sync's lock: check that the plans exist,
//!    make the live drug tables equal to the files ([`apply::apply`]).

pub mod apply;
pub mod check;
pub mod layout;
pub mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::Serialize;
use whatever_database::DatabaseConfig;

use crate::batch::{self, MAX_PROBLEMS, TableCounts, report};
use crate::{Error, Result};
use layout::Role;

/// Flags of `generator import-cms`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Directory holding the unzipped files: "basic drugs formulary file",
    /// "plan information file", "beneficiary cost file", "pricing file"
    /// (CMS Part D public-use names, any suffix) and "drug names" (ours:
    /// names and flags the CMS files do not carry). The files replace all
    /// drug data; every plan they name must already exist.
    pub dir: PathBuf,
    /// Give up, applying nothing, if a table or row lock cannot be had
    /// within this many milliseconds.
    #[arg(long, default_value_t = batch::DEFAULT_LOCK_TIMEOUT_MS, value_name = "MS")]
    pub lock_timeout_ms: u64,
}

/// How an import behaves.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Postgres `lock_timeout` for the import.
    pub lock_timeout: Duration,
    /// Whether to draw progress on stderr.
    pub progress: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_millis(batch::DEFAULT_LOCK_TIMEOUT_MS),
            progress: false,
        }
    }
}

/// Something wrong with one line of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file's name (not its directory).
    pub file: String,
    /// 1-based line number; the header is line 1.
    pub line: u64,
    /// What is wrong, naming the column and value.
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} line {}: {}", self.file, self.line, self.message)
    }
}

/// The problems found so far in a file set.
pub type Problems = crate::batch::Problems<FileProblem>;

impl FileProblem {
    /// A problem on `line` of `file`.
    pub fn new(file: &str, line: u64, message: String) -> Self {
        Self {
            file: file.to_string(),
            line,
            message,
        }
    }
}

/// What one file held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// Its name.
    pub file: String,
    /// Lines, the header and blank ones included.
    pub lines: u64,
    /// Data lines.
    pub rows: u64,
}

/// The JSON line `generator import-cms` prints on stdout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The directory as given.
    pub dir: String,
    /// Each file read, by role (`basic drugs formulary`, ...).
    pub files: BTreeMap<String, FileSummary>,
    /// Rows changed per table (for `plan`: plans whose formulary changed).
    pub tables: BTreeMap<String, TableCounts>,
    /// Wall time, in seconds.
    pub seconds: f64,
}

impl ImportReport {
    /// The report as one line of JSON.
    pub fn to_line(&self) -> String {
        report::line(self)
    }

    /// Counts of one table (zero if it was not touched).
    pub fn table(&self, name: &str) -> TableCounts {
        report::table(&self.tables, name)
    }
}

/// Runs `generator import-cms`: imports and prints the report as one JSON
/// line on stdout, its one copy (the log has the phases only).
pub async fn run(args: &ImportArgs, db: &DatabaseConfig) -> Result<()> {
    let options = ImportOptions {
        lock_timeout: Duration::from_millis(args.lock_timeout_ms),
        progress: true,
    };
    let report = import(&args.dir, db, &options).await?;
    println!("{}", report.to_line());
    Ok(())
}

/// Imports the CMS files in `dir`, all or nothing, and returns what it
/// changed (for the caller to print; it is not logged).
pub async fn import(
    dir: &Path,
    db: &DatabaseConfig,
    options: &ImportOptions,
) -> Result<ImportReport> {
    let started = Instant::now();
    let paths = layout::find_files(dir)?;
    let len = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = batch::progress_bar(options.progress, "import-cms", len);
    let (staged, files) = {
        let dir = dir.to_path_buf();
        let bar = bar.clone();
        tokio::task::spawn_blocking(move || read_all(&dir, &paths, &bar))
            .await
            .map_err(|e| Error::Invalid(format!("the CMS file reader failed: {e}")))??
    };
    let staged = match staged {
        Ok(staged) => staged,
        Err(problems) => {
            bar.abandon_with_message("rejected");
            return Err(reject(dir, problems.list, problems.total));
        }
    };
    phase_done("checked", started);

    let mut client = db.connect().await?;
    batch::configure_session(&client, "generator import-cms", options.lock_timeout).await?;
    apply::stage(&client, staged, &bar).await?;
    phase_done("staged", started);

    let tx = client
        .transaction()
        .await
        .map_err(Error::query("starting the import transaction"))?;
    // A sync changing plans meanwhile could invalidate the plan check.
    if !batch::try_sync_lock(&tx).await? {
        return Err(Error::Invalid(
            "a generator sync or import is running on this database; run again once it has finished"
                .into(),
        ));
    }
    let plan_file = &files[&Role::PlanInformation].file;
    let (problems, total) = apply::unknown_plans(&tx, plan_file, MAX_PROBLEMS as i64).await?;
    if total > 0 {
        bar.abandon_with_message("rejected");
        return Err(reject(dir, problems, total));
    }
    let tables = apply::apply(&tx, &bar).await?;
    bar.set_message("committing");
    tx.commit()
        .await
        .map_err(Error::query("committing the import"))?;
    phase_done("committed", started);
    analyze(&client).await;
    bar.finish_and_clear();
    let report = ImportReport {
        dir: dir.display().to_string(),
        files: files
            .into_iter()
            .map(|(role, summary)| (role.prefix().to_string(), summary))
            .collect(),
        tables,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok(report)
}

/// Checks every file in order; the rows, or every problem found.
#[allow(clippy::type_complexity)]
fn read_all(
    dir: &Path,
    paths: &[PathBuf],
    bar: &ProgressBar,
) -> Result<(
    std::result::Result<check::Staged, Problems>,
    BTreeMap<Role, FileSummary>,
)> {
    let mut checker = check::Checker::default();
    let mut problems = Problems::default();
    let mut files = BTreeMap::new();
    for (role, path) in Role::ALL.into_iter().zip(paths) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        bar.set_message(format!("checking {name}"));
        let counts = read::read_file(path, role, &name, &mut problems, bar, |line, values| {
            checker.line(role, line, values)
        })?;
        files.insert(
            role,
            FileSummary {
                file: name,
                lines: counts.lines,
                rows: counts.rows,
            },
        );
    }
    if !problems.is_empty() {
        return Ok((Err(problems), files));
    }
    Ok((Ok(checker.finish()), files))
}

fn reject(dir: &Path, problems: Vec<FileProblem>, total: u64) -> Error {
    Error::Import {
        dir: dir.to_path_buf(),
        problems,
        total,
    }
}

/// Fresh planner statistics for the replaced tables; a failure is left to
/// autovacuum.
async fn analyze(client: &tokio_postgres::Client) {
    let sql =
        "ANALYZE drug, formulary, formulary_drug, plan_tier_cost, drug_price, plan (formulary_id)";
    if let Err(error) = client.batch_execute(sql).await {
        tracing::warn!(%error, "refreshing statistics after the import failed; autovacuum will");
    }
}

fn phase_done(phase: &str, started: Instant) {
    tracing::info!(
        phase,
        seconds = started.elapsed().as_secs_f64(),
        "import phase done"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::cms::write_cms;
    use crate::seed::sample::Sample;
    use crate::seed::zips::ZipTable;

    #[test]
    fn the_seeds_files_check_clean_and_stage_every_row() {
        let table = ZipTable::embedded().unwrap();
        let sample = Sample::generate(2, &table, &["VT".to_string()]);
        let dir = tempfile::tempdir().unwrap();
        let written = write_cms(dir.path(), &sample.plans, &sample.drugs).unwrap();
        let paths = layout::find_files(dir.path()).unwrap();
        let (staged, files) = read_all(dir.path(), &paths, &ProgressBar::hidden()).unwrap();
        let staged = match staged {
            Ok(staged) => staged,
            Err(problems) => panic!(
                "{}",
                batch::describe_problems(&problems.list, problems.total)
            ),
        };
        let lines = |rows: crate::batch::copy_text::Line| {
            String::from_utf8(rows.into_bytes())
                .unwrap()
                .lines()
                .count()
        };
        assert_eq!(files[&Role::Formulary].rows, written.formulary);
        assert_eq!(lines(staged.drug), sample.drugs.drugs.len());
        assert_eq!(lines(staged.formulary_drug), sample.drugs.placement_count());
        assert_eq!(lines(staged.formulary), sample.drugs.formularies.len());
        assert_eq!(lines(staged.plan_tier_cost), sample.drugs.tier_costs.len());
        assert_eq!(lines(staged.drug_price), sample.drugs.drugs.len() * 2);
        let with_formulary = sample.drugs.plan_formulary.iter().flatten().count();
        assert_eq!(lines(staged.plan), with_formulary);
    }
}
