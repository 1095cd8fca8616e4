//! The lake on S3-compatible storage: the object store and log store
//! factories Delta uses for `s3://` URLs, registered once.

use std::sync::{Arc, Once};

use deltalake::logstore::{
    LogStore, LogStoreFactory, ObjectStoreFactory, ObjectStoreRef, StorageConfig, default_logstore,
    logstore_factories, object_store_factories,
};
use deltalake::{DeltaResult, DeltaTableError};
use object_store::path::Path as StorePath;
use url::Url;

#[derive(Debug, Default)]
struct S3Factory;

impl ObjectStoreFactory for S3Factory {
    fn parse_url_opts(
        &self,
        url: &Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, StorePath)> {
        let bucket = url.host_str().unwrap_or_default();
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (k, v) in &config.raw {
            if let Ok(key) = k
                .to_ascii_lowercase()
                .parse::<object_store::aws::AmazonS3ConfigKey>()
            {
                b = b.with_config(key, v);
            }
        }
        let store = b
            .build()
            .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        let path = StorePath::from_url_path(url.path())
            .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        Ok((Arc::new(store), path))
    }
}

#[derive(Debug, Default)]
struct S3LogStoreFactory;

impl LogStoreFactory for S3LogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        // Commits are made with S3's conditional put (If-None-Match), which
        // AWS S3 and the usual S3-compatible servers honour: two writers
        // cannot both create the same log version.
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

pub(super) fn register_s3() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let url = Url::parse("s3://").expect("scheme URL");
        object_store_factories().insert(url.clone(), Arc::new(S3Factory));
        logstore_factories().insert(url, Arc::new(S3LogStoreFactory));
    });
}
