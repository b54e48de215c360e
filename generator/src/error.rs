//! The one error type of the generator library.

use std::path::PathBuf;

/// What failed, and on what input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to Postgres failed.
    #[error(transparent)]
    Database(#[from] whatever_database::Error),
    /// A query failed.
    #[error("{context}: {source}")]
    Query {
        /// What we were doing.
        context: String,
        /// The driver error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What we were doing ("writing", "reading").
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A template failed to render.
    #[error("rendering {page}: {source}")]
    Render {
        /// The page's key.
        page: String,
        /// The template error.
        #[source]
        source: askama::Error,
    },
    /// A call to S3 or CloudFront failed, after the SDK's retries.
    #[error("{action}: {message}")]
    Aws {
        /// What we were doing, on what ("uploading s3://bucket/key").
        action: String,
        /// The SDK's error, with its causes.
        message: String,
    },
    /// A delta file that cannot be applied; nothing of it was.
    #[error(
        "delta {} rejected, nothing applied: {}",
        path.display(),
        crate::batch::describe_problems(problems, *total)
    )]
    Delta {
        /// The file.
        path: PathBuf,
        /// The first problems, by line.
        problems: Vec<crate::sync::report::Problem>,
        /// How many lines have a problem in all.
        total: u64,
    },
    /// A set of CMS Part D files that cannot be imported; nothing of it was.
    #[error(
        "CMS files in {} rejected, nothing applied: {}",
        dir.display(),
        crate::batch::describe_problems(problems, *total)
    )]
    Import {
        /// The directory the files were read from.
        dir: PathBuf,
        /// The first problems, by file and line.
        problems: Vec<crate::import_cms::FileProblem>,
        /// How many problems there are in all.
        total: u64,
    },
    /// The embedded zip code list is malformed (line 0: the whole file).
    #[error("zip code list, line {line}: {reason}")]
    ZipData {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Hashing a password failed.
    #[error("hashing a password: {0}")]
    PasswordHash(String),
    /// Serializing JSON for the site failed.
    #[error("serializing {what} as JSON: {source}")]
    Json {
        /// What was being serialized.
        what: String,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// Bad input from the user: a flag, a file, a setting.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps a driver error with what we were doing when it happened.
    pub fn query(context: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let context = context.into();
        move |source| Error::Query { context, source }
    }

    /// Wraps an I/O error with the action and the path.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

/// Result with the generator's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
