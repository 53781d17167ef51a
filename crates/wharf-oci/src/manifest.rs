//! Manifests of every media type: the Accept list, decoding by media type, and the checks
//! (size limit, digest) applied before a body is trusted.

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// Every manifest media type we decode, in order of preference; sent as separate `Accept`
/// headers (registries such as distribution 2.8 need them all to serve an index).
pub const ACCEPT: &[&str] = &[
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_LIST,
    DOCKER_V2,
    DOCKER_V1_SIGNED,
    DOCKER_V1,
];

/// Largest manifest body we accept (distribution refuses larger ones too).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
