//! What a publish must do: the diff of a staged site against the manifest,
//! ordered so that nothing is ever linked before it exists, and the safety
//! checks that stop a broken build from emptying the site.

use super::manifest::Manifest;
use super::stage::Staged;
use crate::{Error, Result};

/// Upload phases, in order. An object is uploaded only after every object
/// it may link to, so a visitor never follows a link to something missing.
const PHASES: usize = 4;

/// The phase of a key: hashed assets first, then the leaves (plan pages and
/// all data files), then the pages that link to them (zip pages and any
/// other nested page), then top-level pages (home, 404) last.
pub fn phase(key: &str) -> usize {
    if key.starts_with("assets/") {
        0
    } else if key.starts_with("plans/") || key.starts_with("data/") {
        1
    } else if key.contains('/') {
        2
    } else {
        3
    }
}

/// The work of one publish.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Keys to upload, one list per phase, each sorted.
    pub uploads: Vec<Vec<String>>,
    /// Keys to delete, sorted.
    pub deletes: Vec<String>,
    /// Staged objects the bucket already holds.
    pub unchanged: u64,
    /// Objects the bucket holds now, per the manifest.
    pub live: usize,
}

impl Changes {
    /// Compares the staged site with what the manifest says is live.
    pub fn diff(staged: &Staged, manifest: &Manifest) -> Self {
        let mut uploads = vec![Vec::new(); PHASES];
        let mut unchanged = 0;
        for (key, object) in &staged.objects {
            let same = !manifest.pending.contains(key)
                && manifest.objects.get(key) == Some(&object.sha256);
            if same {
                unchanged += 1;
            } else {
                uploads[phase(key)].push(key.clone());
            }
        }
        let live_keys = manifest.live_keys();
        let deletes = live_keys
            .iter()
            .filter(|key| !staged.objects.contains_key(**key))
            .map(|key| key.to_string())
            .collect();
        Self {
            uploads,
            deletes,
            unchanged,
            live: live_keys.len(),
        }
    }

    /// Number of objects to upload.
    pub fn upload_count(&self) -> usize {
        self.uploads.iter().map(Vec::len).sum()
    }

    /// Every key to upload, in upload order.
    pub fn upload_keys(&self) -> impl Iterator<Item = &String> {
        self.uploads.iter().flatten()
    }

    /// True when the bucket already matches the build.
    pub fn is_empty(&self) -> bool {
        self.upload_count() == 0 && self.deletes.is_empty()
    }
}

/// Safety limits on one publish.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest share of the live objects one publish may delete.
    pub max_delete_share: f64,
    /// Skip both checks.
    pub allow_mass_delete: bool,
}

/// Refuses a build that would empty or gut the site: one with no plan pages
/// (an empty or broken sync), or one deleting more than the allowed share.
pub fn check(staged: &Staged, changes: &Changes, limits: Limits) -> Result<()> {
    if limits.allow_mass_delete {
        return Ok(());
    }
    let has_plans = staged.objects.keys().any(|k| k.starts_with("plans/"));
    if !has_plans {
        return Err(Error::Invalid(format!(
            "refusing to publish a site with no plans/ pages ({} objects rendered): the \
             database probably has no active plans (an empty or failed sync). It would delete \
             {} live objects, e.g. {}. If the site really must have no plans, re-run with \
             --allow-mass-delete",
            staged.objects.len(),
            changes.deletes.len(),
            examples(&changes.deletes),
        )));
    }
    let allowed = limits.max_delete_share * changes.live as f64;
    if changes.deletes.len() as f64 > allowed {
        return Err(Error::Invalid(format!(
            "refusing to delete {} of {} live objects ({:.1}%, more than --max-delete-share {}), \
             e.g. {}. Check the last sync; if the deletions are intended, re-run with \
             --allow-mass-delete or a higher --max-delete-share",
            changes.deletes.len(),
            changes.live,
            100.0 * changes.deletes.len() as f64 / changes.live.max(1) as f64,
            limits.max_delete_share,
            examples(&changes.deletes),
        )));
    }
    Ok(())
}

/// The first few keys of a list, for messages.
pub fn examples(keys: &[String]) -> String {
    const SHOWN: usize = 10;
    if keys.is_empty() {
        return "none".into();
    }
    let mut text = keys
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if keys.len() > SHOWN {
        text.push_str(&format!(" and {} more", keys.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::stage::StagingSink;
    use crate::site::sink::Sink;

    fn staged(objects: &[(&str, &str)]) -> Staged {
        let sink = StagingSink::new().unwrap();
        for (key, body) in objects {
            sink.put(key, body.as_bytes()).unwrap();
        }
        sink.finish()
    }

    fn manifest_of(staged: &Staged) -> Manifest {
        let mut m = Manifest::new();
        for (k, o) in &staged.objects {
            m.objects.insert(k.clone(), o.sha256.clone());
        }
        m
    }

    #[test]
    fn pages_come_after_what_they_link_to() {
        let mut keys = [
            "index.html",
            "zip/02134/index.html",
            "data/zip/02134.json",
            "plans/S1-001-0/index.html",
            "assets/site.abc.css",
            "404.html",
        ];
        keys.sort_by_key(|k| phase(k));
        assert_eq!(keys[0], "assets/site.abc.css");
        assert_eq!(phase("zip/02134/index.html"), 2);
        assert!(phase("plans/S1-001-0/index.html") < phase("zip/02134/index.html"));
        assert!(phase("zip/02134/index.html") < phase("index.html"));
        assert_eq!(phase("404.html"), phase("index.html"));
    }

    #[test]
    fn only_changed_new_pending_and_gone_keys_are_work() {
        let old = staged(&[
            ("index.html", "a"),
            ("plans/p/index.html", "p"),
            ("zip/1/index.html", "z"),
        ]);
        let mut manifest = manifest_of(&old);
        manifest
            .objects
            .insert("plans/gone/index.html".into(), "00".into());
        manifest.pending.insert("zip/1/index.html".into());
        manifest
            .pending
            .insert("zip/half-uploaded/index.html".into());
        let new = staged(&[
            ("index.html", "a"),
            ("plans/p/index.html", "p2"),
            ("zip/1/index.html", "z"),
            ("plans/new/index.html", "n"),
        ]);
        let changes = Changes::diff(&new, &manifest);
        assert_eq!(
            changes.upload_keys().cloned().collect::<Vec<_>>(),
            [
                "plans/new/index.html",
                "plans/p/index.html",
                "zip/1/index.html"
            ]
        );
        assert_eq!(
            changes.deletes,
            ["plans/gone/index.html", "zip/half-uploaded/index.html"]
        );
        assert_eq!(changes.unchanged, 1);
        assert_eq!(changes.live, 5);
    }

    #[test]
    fn the_same_build_is_no_work() {
        let site = staged(&[("index.html", "a"), ("plans/p/index.html", "p")]);
        let changes = Changes::diff(&site, &manifest_of(&site));
        assert!(changes.is_empty());
        assert_eq!(changes.unchanged, 2);
    }

    #[test]
    fn a_build_without_plans_is_refused_unless_allowed() {
        let old = staged(&[("index.html", "a"), ("plans/p/index.html", "p")]);
        let empty = staged(&[("index.html", "a")]);
        let changes = Changes::diff(&empty, &manifest_of(&old));
        let limits = Limits {
            max_delete_share: 1.0,
            allow_mass_delete: false,
        };
        let err = check(&empty, &changes, limits).unwrap_err().to_string();
        assert!(err.contains("no plans/"), "{err}");
        assert!(err.contains("plans/p/index.html"), "{err}");
        assert!(err.contains("--allow-mass-delete"), "{err}");
        let allowed = Limits {
            allow_mass_delete: true,
            ..limits
        };
        check(&empty, &changes, allowed).unwrap();
    }

    #[test]
    fn deleting_more_than_the_share_is_refused() {
        let objects: Vec<(String, String)> = (0..10)
            .map(|i| (format!("plans/{i}/index.html"), i.to_string()))
            .collect();
        let refs: Vec<(&str, &str)> = objects
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let old = staged(&refs);
        let limits = Limits {
            max_delete_share: 0.2,
            allow_mass_delete: false,
        };
        let two_gone = staged(&refs[2..]);
        check(
            &two_gone,
            &Changes::diff(&two_gone, &manifest_of(&old)),
            limits,
        )
        .unwrap();
        let three_gone = staged(&refs[3..]);
        let err = check(
            &three_gone,
            &Changes::diff(&three_gone, &manifest_of(&old)),
            limits,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("refusing to delete 3 of 10"), "{err}");
        assert!(err.contains("plans/0/index.html"), "{err}");
    }
}
