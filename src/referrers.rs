//! What refers to the manifest in view (signatures, SBOMs, attestations), as plain values: the
//! referrers index (API or `sha256-<hex>` tag, `RegistryClient::referrers`), and for each of the
//! first [`MAX_OPENED`] referrers its manifest, whose one layer (most artifacts have one) is
//! offered for **Download**.

use wharf_oci::manifest::Manifest;
use wharf_oci::referrers::{self, Referrer};
use wharf_oci::{Digest, Reference};

use crate::net::{IoError, ReferrersSource, RegistryClient};
use crate::view::Blob;

/// Referrer manifests fetched per view (each is one request); the rest are listed only.
pub const MAX_OPENED: usize = 16;

/// The file name an OCI layer may carry (ORAS and cosign set it).
const TITLE: &str = "org.opencontainers.image.title";

/// The referrers panel of one view.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferrersView {
    /// The manifest they refer to.
    pub subject: Digest,
    pub found: Found,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Looking,
    /// `source` is how the registry lists them; `rows` may be empty (an empty index).
    Listed {
        source: ReferrersSource,
        rows: Vec<ReferrerRow>,
    },
    /// Neither the API nor the tag has any.
    None,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReferrerRow {
    pub referrer: Referrer,
    /// The artifact's one layer, when it has exactly one (and its manifest was fetched).
    pub blob: Option<Blob>,
    /// How many layers the artifact has, when known.
    pub layers: Option<usize>,
}

/// Looks up the referrers of `subject` in `reference`'s repository.
pub async fn find(client: &RegistryClient, reference: &Reference, subject: &Digest) -> Found {
    match list(client, reference, subject).await {
        Ok(found) => found,
        Err(e) => Found::Failed(e.to_string()),
    }
}

async fn list(
    client: &RegistryClient,
    reference: &Reference,
    subject: &Digest,
) -> Result<Found, IoError> {
    let Some((source, fetched)) = client.referrers(reference, subject).await? else {
        return Ok(Found::None);
    };
    let Manifest::Index(index) = &fetched.manifest else {
        return Err(IoError::Protocol {
            message: format!(
                "the referrers of {subject} are listed in a {}, not an index",
                fetched.media_type()
            ),
        });
    };
    let mut rows = Vec::new();
    for (i, referrer) in referrers::list(index, subject).into_iter().enumerate() {
        let (blob, layers) = if i < MAX_OPENED {
            one_layer(client, reference, &referrer).await?
        } else {
            (None, None)
        };
        rows.push(ReferrerRow {
            referrer,
            blob,
            layers,
        });
    }
    Ok(Found::Listed { source, rows })
}

/// The referrer's manifest (verified by its digest): its layer, if it has one only.
async fn one_layer(
    client: &RegistryClient,
    reference: &Reference,
    referrer: &Referrer,
) -> Result<(Option<Blob>, Option<usize>), IoError> {
    let fetched = client
        .manifest_by_digest(reference, &referrer.digest)
        .await?;
    let Manifest::Image(manifest) = &fetched.manifest else {
        return Ok((None, None));
    };
    let blob = match manifest.layers.as_slice() {
        [layer] => Some(Blob {
            digest: layer.digest.clone(),
            media_type: layer.media_type_str().to_owned(),
            size: Some(layer.size),
            urls: layer.urls.clone(),
            file_name: file_name(layer.annotation(TITLE), referrer, &layer.digest),
        }),
        _ => None,
    };
    Ok((blob, Some(manifest.layers.len())))
}

/// The layer's own title when it is a plain file name, else `<kind>-<hex12>.json`.
fn file_name(title: Option<&str>, referrer: &Referrer, digest: &Digest) -> String {
    let plain = title.filter(|t| {
        !t.is_empty()
            && t.len() <= 200
            && !t.starts_with('.')
            && !t.contains(['/', '\\', ':', '\0'])
    });
    match plain {
        Some(title) => title.to_owned(),
        None => {
            let kind = referrer.kind.label().to_ascii_lowercase();
            let hex: String = digest.hex().chars().take(12).collect();
            format!("{kind}-{hex}.json")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wharf_oci::referrers::ReferrerKind;

    #[test]
    fn file_names_are_the_title_when_it_is_a_plain_name() {
        let digest = Digest::sha256_of(b"sbom");
        let referrer = Referrer {
            digest: digest.clone(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            artifact_type: "application/spdx+json".into(),
            size: 10,
            kind: ReferrerKind::Sbom,
            created: None,
        };
        let fallback = format!("sbom-{}.json", &digest.hex()[..12]);
        let table = [
            (Some("sbom.spdx.json"), "sbom.spdx.json".to_owned()),
            (None, fallback.clone()),
            (Some(""), fallback.clone()),
            (Some("../../etc/passwd"), fallback.clone()),
            (Some(".bashrc"), fallback.clone()),
            (Some("C:evil"), fallback.clone()),
            (Some("a\\b"), fallback.clone()),
        ];
        for (title, want) in table {
            assert_eq!(file_name(title, &referrer, &digest), want, "{title:?}");
        }
    }
}
