//! The fake Graph's media: `POST /{version}/{phone_number_id}/media` takes a multipart form
//! (`messaging_product` whatsapp, `type` the MIME type, `file` the bytes with a file name) and
//! answers `{"id": "..."}`; an image or document message must name an uploaded id.

use super::*;

/// A file uploaded to the media endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub mime: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl FakeGraph {
    /// The files uploaded so far, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        self.state.with(|i| i.uploads.clone())
    }
}

/// One part of a multipart body: its name, file name and bytes.
struct Part {
    name: String,
    file_name: Option<String>,
    bytes: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The parts of a `multipart/form-data` body, or why it is not one.
fn parts(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Part>, String> {
    let ctype = headers
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let boundary = ctype
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
        .map(|b| b.trim_matches('"'))
        .ok_or_else(|| format!("expected multipart/form-data, got {ctype:?}"))?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let mut rest = body;
    let start = find(rest, &delimiter).ok_or("no boundary in the body")?;
    rest = &rest[start + delimiter.len()..];
    while !rest.starts_with(b"--") {
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a part must start on a new line")?;
        let head_end = find(rest, b"\r\n\r\n").ok_or("a part without headers")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        let data = &rest[head_end + 4..];
        let end = find(data, &delimiter).ok_or("a part without its closing boundary")?;
        let bytes = data[..end]
            .strip_suffix(b"\r\n")
            .ok_or("a part must end with a new line")?
            .to_vec();
        let field = |key: &str| {
            head.split(';')
                .map(str::trim)
                .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        out.push(Part {
            name: field("name").ok_or("a part without a name")?,
            file_name: field("filename"),
            bytes,
        });
        rest = &data[end + delimiter.len()..];
    }
    Ok(out)
}

/// `POST /{version}/{phone_id}/media`.
pub(super) async fn upload(
    State(state): State<Arc<FakeState>>,
    Path((version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refuse(&state, &version, &phone_id, &headers, "post") {
        return refused;
    }
    let parts = match parts(&headers, &body) {
        Ok(parts) => parts,
        Err(e) => return graph_error(StatusCode::BAD_REQUEST, 100, &format!("(#100) {e}")),
    };
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.bytes).to_string())
    };
    if text("messaging_product").as_deref() != Some("whatsapp") {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) The parameter messaging_product is required",
        );
    }
    let Some(mime) = text("type").filter(|t| t.contains('/')) else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Param type is required",
        );
    };
    let Some(file) = parts
        .iter()
        .find(|p| p.name == "file" && p.file_name.is_some() && !p.bytes.is_empty())
    else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) The parameter file is required",
        );
    };
    let id = state.with(|i| {
        i.next_id += 1;
        let id = format!("MEDIA-{}", i.next_id);
        i.uploads.push(Upload {
            id: id.clone(),
            mime,
            file_name: file.file_name.clone().unwrap_or_default(),
            bytes: file.bytes.clone(),
        });
        id
    });
    state.changed.notify_waiters();
    (StatusCode::OK, Json(json!({ "id": id }))).into_response()
}

/// Checks an image or document message; the record's body is its caption, its ids the media id.
pub(super) fn check_media(kind: &str, m: &Value, rec: &mut Recorded) -> Result<(), Invalid> {
    rec.kind = kind.to_string();
    let id = text(&m["id"]);
    if id.is_empty() && m["link"].is_null() {
        bad_param(&format!("{kind}.id or {kind}.link is required"))?;
    }
    if chars(&m["caption"]) > 1024 {
        bad_param("the caption must be at most 1024 characters")?;
    }
    rec.body = text(&m["caption"]);
    rec.ids.push(id);
    Ok(())
}

/// An image or document must name a file uploaded here.
pub(super) fn check_uploaded(state: &FakeState, rec: &Recorded) -> Result<(), Invalid> {
    if !matches!(rec.kind.as_str(), "image" | "document") {
        return Ok(());
    }
    let known = state.with(|i| i.uploads.iter().any(|u| Some(&u.id) == rec.ids.first()));
    if known {
        Ok(())
    } else {
        bad_param("Invalid parameter: the media id is not a file uploaded to this number")
    }
}
