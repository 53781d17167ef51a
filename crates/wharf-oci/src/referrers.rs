//! What refers to a manifest: signatures, SBOMs, attestations (OCI distribution 1.1).
//!
//! A registry with the referrers API answers `GET /v2/<name>/referrers/<digest>`
//! ([`crate::request::referrers`]) with an OCI index of descriptors; one without it (distribution
//! 2.8, most mirrors) answers 404, and the pushing clients keep the same index under the tag
//! `sha256-<hex>` instead ([`crate::request::referrers_fallback`]). Both are decoded as an
//! [`Index`] (`manifest::decode`) and listed here the same way.

use crate::digest::Digest;
use crate::manifest::{Descriptor, Index};

/// What a referrer is, from its `artifactType` (or, without one, its media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrerKind {
    /// cosign, Notation or a Sigstore bundle.
    Signature,
    /// SPDX, CycloneDX or Syft documents.
    Sbom,
    /// in-toto statements, DSSE envelopes, cosign attestations.
    Attestation,
    Other,
}

impl ReferrerKind {
    pub fn label(self) -> &'static str {
        match self {
            ReferrerKind::Signature => "signature",
            ReferrerKind::Sbom => "SBOM",
            ReferrerKind::Attestation => "attestation",
            ReferrerKind::Other => "artifact",
        }
    }

    /// Classifies an artifact type. Table in the tests.
    pub fn of(artifact_type: &str) -> ReferrerKind {
        let t = artifact_type.to_ascii_lowercase();
        let any = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
        if any(&["cosign.artifact.sig", "notary.signature", "sigstore.bundle"]) {
            ReferrerKind::Signature
        } else if any(&["spdx", "cyclonedx", "syft", "cosign.artifact.sbom"]) {
            ReferrerKind::Sbom
        } else if any(&["in-toto", "dsse", "cosign.artifact.att", "attestation"]) {
            ReferrerKind::Attestation
        } else {
            ReferrerKind::Other
        }
    }
}

/// One referrer, as the subject's referrers index describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The referrer's manifest.
    pub digest: Digest,
    pub media_type: String,
    /// `artifactType`, or for an image manifest without one, its media type.
    pub artifact_type: String,
    pub size: u64,
    pub kind: ReferrerKind,
    /// `org.opencontainers.image.created`, when the index gives it.
    pub created: Option<String>,
}

const CREATED: &str = "org.opencontainers.image.created";

impl Referrer {
    fn from_descriptor(d: &Descriptor) -> Referrer {
        let artifact_type = d
            .artifact_type
            .clone()
            .unwrap_or_else(|| d.media_type_str().to_owned());
        Referrer {
            digest: d.digest.clone(),
            media_type: d.media_type_str().to_owned(),
            kind: ReferrerKind::of(&artifact_type),
            artifact_type,
            size: d.size,
            created: d.annotation(CREATED).map(str::to_owned),
        }
    }
}

/// The referrers an index lists, in its order, each digest once; the subject itself (which a
/// careless client may list) is left out.
pub fn list(index: &Index, subject: &Digest) -> Vec<Referrer> {
    let mut seen = Vec::new();
    index
        .manifests
        .iter()
        .filter(|d| &d.digest != subject)
        .filter(|d| {
            let fresh = !seen.contains(&&d.digest);
            seen.push(&d.digest);
            fresh
        })
        .map(Referrer::from_descriptor)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{decode, Expected, Manifest};

    const INDEX: &str = "application/vnd.oci.image.index.v1+json";

    #[test]
    fn kinds_from_artifact_types() {
        let table = [
            (
                "application/vnd.dev.cosign.artifact.sig.v1+json",
                ReferrerKind::Signature,
            ),
            (
                "application/vnd.cncf.notary.signature",
                ReferrerKind::Signature,
            ),
            (
                "application/vnd.dev.sigstore.bundle.v0.3+json",
                ReferrerKind::Signature,
            ),
            ("application/spdx+json", ReferrerKind::Sbom),
            ("application/vnd.cyclonedx+json", ReferrerKind::Sbom),
            ("application/vnd.syft+json", ReferrerKind::Sbom),
            ("application/vnd.in-toto+json", ReferrerKind::Attestation),
            (
                "application/vnd.dsse.envelope.v1+json",
                ReferrerKind::Attestation,
            ),
            (
                "application/vnd.dev.cosign.artifact.att.v1+json",
                ReferrerKind::Attestation,
            ),
            (
                "application/vnd.oci.image.manifest.v1+json",
                ReferrerKind::Other,
            ),
            ("application/x-anything", ReferrerKind::Other),
            ("", ReferrerKind::Other),
        ];
        for (artifact_type, kind) in table {
            assert_eq!(ReferrerKind::of(artifact_type), kind, "{artifact_type}");
        }
    }

    fn index_of(entries: serde_json::Value) -> Index {
        let body = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": INDEX, "manifests": entries,
        }))
        .unwrap();
        match decode(Some(INDEX), &body, &Expected::default())
            .unwrap()
            .manifest
        {
            Manifest::Index(index) => *index,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lists_each_referrer_once_without_the_subject() {
        let subject = Digest::sha256_of(b"subject");
        let sbom = Digest::sha256_of(b"sbom");
        let sig = Digest::sha256_of(b"sig");
        let m = "application/vnd.oci.image.manifest.v1+json";
        let index = index_of(serde_json::json!([
            {"mediaType": m, "digest": sbom, "size": 500, "artifactType": "application/spdx+json",
             "annotations": {"org.opencontainers.image.created": "2026-12-01T00:00:00Z"}},
            {"mediaType": m, "digest": sig, "size": 300},
            {"mediaType": m, "digest": sbom, "size": 500, "artifactType": "application/spdx+json"},
            {"mediaType": m, "digest": subject, "size": 100},
        ]));
        let listed = list(&index, &subject);
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].digest, sbom);
        assert_eq!(listed[0].kind, ReferrerKind::Sbom);
        assert_eq!(listed[0].created.as_deref(), Some("2026-12-01T00:00:00Z"));
        assert_eq!(
            listed[1].artifact_type, m,
            "no artifactType: the media type"
        );
        assert_eq!(listed[1].kind, ReferrerKind::Other);
        assert!(list(&index_of(serde_json::json!([])), &subject).is_empty());
    }
}
