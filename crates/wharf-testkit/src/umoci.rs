//! An OCI image built with `umoci` (init / new / insert a small file tree, ~30 ms) and pushed
//! with `skopeo copy` (with `--dest-creds` of the seeding admin in the private modes).

use serde_json::Value;
use wharf_oci::Digest;

use crate::error::{Error, Result};
use crate::images::SeededImage;
use crate::process::run;
use crate::registry::{Mode, Registry};
use crate::seed::{content_digest, expect, SeededBlob, SeededManifest};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

impl Registry {
    /// Builds an image holding `files` (path below `/`, contents) in one layer with umoci, and
    /// pushes it as `repo:tag` with skopeo. Returns what the registry now serves.
    pub async fn push_umoci_image(
        &self,
        repo: &str,
        tag: &str,
        files: &[(&str, &[u8])],
    ) -> Result<SeededImage> {
        let work = tempfile::Builder::new()
            .prefix("umoci-")
            .tempdir_in(self.work_dir())
            .map_err(Error::io("creating a umoci work dir"))?;
        let tree = work.path().join("tree");
        for (path, contents) in files {
            let target = tree.join(path.trim_start_matches('/'));
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(Error::io("creating the file tree"))?;
            }
            std::fs::write(&target, contents).map_err(Error::io("writing the file tree"))?;
        }
        let layout = work.path().join("layout");
        let layout = layout.to_string_lossy();
        let image = format!("{layout}:{tag}");
        let tree = tree.to_string_lossy();
        run("umoci", &["init", "--layout", &layout]).await?;
        run("umoci", &["new", "--image", &image]).await?;
        run("umoci", &["insert", "--image", &image, &tree, "/"]).await?;
        let source = format!("oci:{image}");
        let destination = format!("docker://{}/{repo}:{tag}", self.host_port());
        let creds = self.admin().colon_pair();
        let mut args = vec![
            "copy",
            "--quiet",
            "--insecure-policy",
            "--dest-tls-verify=false",
        ];
        if matches!(self.mode(), Mode::Basic | Mode::Token) {
            args.extend(["--dest-creds", &creds]);
        }
        args.extend([source.as_str(), destination.as_str()]);
        run("skopeo", &args).await?;
        self.fetch_image(repo, tag).await
    }

    /// Reads back an OCI image manifest (as the seeding admin) into a [`SeededImage`].
    pub async fn fetch_image(&self, repo: &str, reference: &str) -> Result<SeededImage> {
        let auth = self.push_authorization(repo)?;
        let url = self.v2_url(&format!("{repo}/manifests/{reference}"));
        let mut request = self
            .http
            .get(url.clone())
            .header(http::header::ACCEPT, OCI_MANIFEST);
        if let Some(auth) = auth {
            request = request.header(http::header::AUTHORIZATION, auth);
        }
        let response = expect(request.send().await, 200, "GET", &url).await?;
        let digest = content_digest(&response)?;
        let media_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(OCI_MANIFEST)
            .to_owned();
        let bytes = response
            .bytes()
            .await
            .map_err(Error::http(format!("reading {url}")))?
            .to_vec();
        if Digest::sha256_of(&bytes) != digest {
            return Err(Error::protocol(format!(
                "manifest of {repo}:{reference} does not hash to {digest}"
            )));
        }
        let document: Value = serde_json::from_slice(&bytes)?;
        let config = blob_of(&document["config"])?;
        let layers = document["layers"]
            .as_array()
            .map(|layers| layers.iter().map(blob_of).collect::<Result<Vec<_>>>())
            .transpose()?
            .unwrap_or_default();
        Ok(SeededImage {
            manifest: SeededManifest {
                repo: repo.to_owned(),
                reference: reference.to_owned(),
                digest,
                size: bytes.len() as u64,
                media_type,
                bytes,
            },
            config,
            layers,
            platform: None,
        })
    }
}

fn blob_of(descriptor: &Value) -> Result<SeededBlob> {
    let digest = descriptor["digest"]
        .as_str()
        .ok_or_else(|| Error::protocol("descriptor without digest"))?
        .parse()?;
    let size = descriptor["size"]
        .as_u64()
        .ok_or_else(|| Error::protocol("descriptor without size"))?;
    let media_type = descriptor["mediaType"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    Ok(SeededBlob {
        digest,
        size,
        media_type,
    })
}
