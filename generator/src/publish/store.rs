//! The bucket, seen through the few operations a publish needs. The trait
//! lets tests put a failing store in front of the real one to crash a
//! publish at a chosen point.

use std::future::Future;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::manifest::MANIFEST_KEY;
use super::stage::StagedObject;
use crate::{Error, Result};

/// S3's DeleteObjects takes at most this many keys.
pub const MAX_KEYS_PER_DELETE: usize = 1_000;

/// What a publish does to the bucket. Keys are site keys, relative to the prefix.
pub trait ObjectStore: Sync {
    /// Stores one staged object with its headers and hash.
    fn put(&self, key: &str, object: &StagedObject) -> impl Future<Output = Result<()>> + Send;
    /// Deletes up to [`MAX_KEYS_PER_DELETE`] keys; a key already gone is fine.
    fn delete(&self, keys: &[String]) -> impl Future<Output = Result<()>> + Send;
    /// The manifest's bytes, or `None` when there is none.
    fn get_manifest(&self) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
    /// Replaces the manifest.
    fn put_manifest(&self, bytes: Vec<u8>) -> impl Future<Output = Result<()>> + Send;
    /// Every site key in the bucket (the manifest excluded).
    fn list(&self) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// The content hash an object was uploaded with (its `sha256`
    /// metadata); `None` if the object is gone or carries none.
    fn stored_hash(&self, key: &str) -> impl Future<Output = Result<Option<String>>> + Send;
}

/// The real bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    /// Empty, or a path ending in `/`.
    prefix: String,
}

impl S3Store {
    /// A store for `bucket`, with every key under `prefix` (may be empty).
    pub fn new(client: Client, bucket: impl Into<String>, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            client,
            bucket: bucket.into(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn failed<E: std::error::Error>(&self, action: &str, key: &str, err: E) -> Error {
        Error::Aws {
            action: format!("{action} s3://{}/{}", self.bucket, self.full_key(key)),
            message: DisplayErrorContext(err).to_string(),
        }
    }
}

impl ObjectStore for S3Store {
    async fn put(&self, key: &str, object: &StagedObject) -> Result<()> {
        // Objects are small pages; reading them whole keeps the body
        // replayable for the SDK's retries.
        let bytes = tokio::fs::read(&object.path)
            .await
            .map_err(Error::io("reading", &object.path))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .body(ByteStream::from(bytes))
            .content_type(object.content_type)
            .cache_control(object.cache_control)
            .metadata("sha256", &object.sha256)
            .send()
            .await
            .map_err(|e| self.failed("uploading", key, e))?;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(self.full_key(key)).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.failed("deleting", &keys[0], e))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| self.failed("deleting", &keys[0], e))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| self.failed("deleting", &keys[0], e))?;
        if let Some(error) = output.errors().first() {
            return Err(Error::Aws {
                action: format!(
                    "deleting s3://{}/{}",
                    self.bucket,
                    error.key().unwrap_or_default()
                ),
                message: format!(
                    "{} ({} of {} keys failed)",
                    error.message().unwrap_or("unknown error"),
                    output.errors().len(),
                    keys.len()
                ),
            });
        }
        Ok(())
    }

    async fn get_manifest(&self) -> Result<Option<Vec<u8>>> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(MANIFEST_KEY))
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.failed("reading", MANIFEST_KEY, e)),
        };
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| self.failed("reading", MANIFEST_KEY, e))?;
        Ok(Some(bytes.to_vec()))
    }

    async fn put_manifest(&self, bytes: Vec<u8>) -> Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(MANIFEST_KEY))
            .body(ByteStream::from(bytes))
            .content_type("application/json")
            .cache_control("no-store")
            .send()
            .await
            .map_err(|e| self.failed("writing", MANIFEST_KEY, e))?;
        Ok(())
    }

    async fn list(&self) -> Result<Vec<String>> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failed("listing", "", e))?;
            for object in page.contents() {
                let Some(key) = object.key().and_then(|k| k.strip_prefix(&self.prefix)) else {
                    continue;
                };
                if !key.starts_with("_publish/") {
                    keys.push(key.to_owned());
                }
            }
        }
        Ok(keys)
    }

    async fn stored_hash(&self, key: &str) -> Result<Option<String>> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await;
        match result {
            Ok(head) => Ok(head.metadata().and_then(|m| m.get("sha256")).cloned()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(self.failed("reading the metadata of", key, e)),
        }
    }
}
