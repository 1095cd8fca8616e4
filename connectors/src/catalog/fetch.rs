//! Fetching a catalog document: a local path (relative to the workspace),
//! `file://` or `http(s)://`, with retries and backoff for HTTP.

use std::path::Path;
use std::time::Duration;

use super::HarvestError;
use crate::source::secret::redact_url;

/// Attempts for one HTTP request.
const ATTEMPTS: u32 = 3;

/// A client for harvesting: bounded timeouts, no proxy surprises, and no
/// credential sent on to another host by a redirect.
pub(crate) fn client(credentials: bool) -> Result<reqwest::Client, HarvestError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .redirect(crate::http::redirects(credentials))
        .build()
        .map_err(|e| HarvestError::Config(format!("HTTP client: {e}")))
}

/// The bytes at `location`.
pub(crate) async fn fetch(
    location: &str,
    base_dir: &Path,
    token: Option<&str>,
) -> Result<Vec<u8>, HarvestError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let client = client(token.is_some())?;
        return get(&client, location, &[], token).await;
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let path = base_dir.join(path);
    tokio::fs::read(&path)
        .await
        .map_err(|e| HarvestError::Fetch {
            location: path.display().to_string(),
            message: e.to_string(),
        })
}

/// GET `url` with `query`, retrying failures (connection errors, 5xx, 429)
/// with backoff; a 4xx other than 429 fails at once.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    query: &[(String, String)],
    token: Option<&str>,
) -> Result<Vec<u8>, HarvestError> {
    let shown = redact_url(url);
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * (1 << attempt))).await;
        }
        let mut req = client.get(url).query(query);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                match crate::http::body(r, crate::http::MAX_BODY_BYTES).await {
                    Ok(b) => return Ok(b),
                    Err(e) => last = format!("reading the response: {e}"),
                }
            }
            Ok(r) => {
                let status = r.status();
                last = format!("HTTP {status}");
                if status.is_client_error() && status.as_u16() != 429 {
                    break;
                }
            }
            Err(e) => last = e.to_string(),
        }
        tracing::warn!(url = %shown, attempt = attempt + 1, error = %last, "catalog fetch failed");
    }
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Err(HarvestError::Fetch {
        location: if q.is_empty() {
            shown
        } else {
            format!("{shown}?{}", q.join("&"))
        },
        message: last,
    })
}

/// Parses JSON, naming the location and the line and column of an error.
pub(crate) fn parse_json(bytes: &[u8], location: &str) -> Result<serde_json::Value, HarvestError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| HarvestError::Format {
        location: location.to_string(),
        message: format!(
            "not valid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    })
}

/// [`parse_json`], with the array at `path` (object keys joined by `.`;
/// empty: the document itself) handed to `each` one element at a time,
/// never held whole: a portal export of 100,000 records is not parsed
/// into one tree beside the records made from it (issue #19). Returns the
/// document with that array left empty, and how many elements it had
/// (None: no array at `path`, and whatever is there is kept). A key on
/// the path that appears twice is an error (a tree would keep the last).
pub(crate) fn stream_json(
    bytes: &[u8],
    location: &str,
    path: &str,
    each: &mut dyn FnMut(serde_json::Value),
) -> Result<(serde_json::Value, Option<usize>), HarvestError> {
    use serde::de::DeserializeSeed;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let keys: Vec<&str> = if path.is_empty() {
        vec![]
    } else {
        path.split('.').collect()
    };
    let mut found = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = Streamed {
        path: &keys,
        each,
        found: &mut found,
    }
    .deserialize(&mut de)
    .and_then(|doc| de.end().map(|()| doc))
    .map_err(|e| HarvestError::Format {
        location: location.to_string(),
        message: format!(
            "not valid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    })?;
    Ok((doc, found))
}

/// A JSON value read as a tree, but for the array at `path`, whose
/// elements go to `each`.
struct Streamed<'a, 'p> {
    path: &'p [&'p str],
    each: &'a mut dyn FnMut(serde_json::Value),
    found: &'a mut Option<usize>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Streamed<'_, '_> {
    type Value = serde_json::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Streamed<'_, '_> {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !self.path.is_empty() {
            // An array above the records: kept as it is.
            let mut v = vec![];
            while let Some(x) = seq.next_element()? {
                v.push(x);
            }
            return Ok(serde_json::Value::Array(v));
        }
        let mut n = 0;
        while let Some(x) = seq.next_element()? {
            (self.each)(x);
            n += 1;
        }
        *self.found = Some(n);
        Ok(serde_json::Value::Array(vec![]))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        let Some((key, rest)) = self.path.split_first() else {
            // The records' place holds an object: kept as it is.
            while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
                out.insert(k, v);
            }
            return Ok(serde_json::Value::Object(out));
        };
        let mut seen = false;
        while let Some(k) = map.next_key::<String>()? {
            if k == *key {
                if seen {
                    return Err(serde::de::Error::custom(format!(
                        "key `{k}` appears twice on the records' path"
                    )));
                }
                seen = true;
                let v = map.next_value_seed(Streamed {
                    path: rest,
                    each: &mut *self.each,
                    found: &mut *self.found,
                })?;
                out.insert(k, v);
            } else {
                let v = map.next_value::<serde_json::Value>()?;
                out.insert(k, v);
            }
        }
        Ok(serde_json::Value::Object(out))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v)
            .map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
}

/// A location for messages: URLs without credentials, paths as they are.
pub(crate) fn shown(location: &str) -> String {
    if location.contains("://") && !location.starts_with("file://") {
        redact_url(location)
    } else {
        location.to_string()
    }
}

#[cfg(test)]
mod stream_tests {
    use serde_json::{Value, json};

    use super::{parse_json, stream_json};

    fn stream(text: &str, path: &str) -> Result<(Value, Option<usize>, Vec<Value>), String> {
        let mut got = vec![];
        let (doc, found) = stream_json(text.as_bytes(), "p.json", path, &mut |v| got.push(v))
            .map_err(|e| e.to_string())?;
        Ok((doc, found, got))
    }

    /// Streamed, a document gives the elements of the array at the path,
    /// in order, and the rest of the document as a tree would: putting the
    /// elements back gives the tree.
    #[test]
    fn the_array_at_the_path_is_streamed_and_the_rest_is_kept() {
        let doc = json!({
            "code": 0,
            "msg": "成功",
            "data": {
                "total": 3,
                "next": null,
                "list": [{"资源名称": "户籍", "n": 1.5}, {"资源名称": "婚姻", "items": [1, 2]}, 7],
                "ratio": -2,
            },
            "tags": ["a", {"b": true}],
        });
        let text = format!("\u{feff}{doc}");
        let (rest, found, got) = stream(&text, "data.list").unwrap();
        assert_eq!(found, Some(3));
        assert_eq!(got, doc["data"]["list"].as_array().unwrap().clone());
        let mut back = rest.clone();
        back["data"]["list"] = Value::Array(got);
        assert_eq!(back, parse_json(text.as_bytes(), "p.json").unwrap());
        assert_eq!(rest["data"]["list"], json!([]));
        // The document itself as the array.
        let (rest, found, got) = stream("[{\"a\": 1}, [], \"x\"]", "").unwrap();
        assert_eq!((rest, found), (json!([]), Some(3)));
        assert_eq!(got, vec![json!({"a": 1}), json!([]), json!("x")]);
        let (_, found, got) = stream("{\"list\": []}", "list").unwrap();
        assert_eq!((found, got.len()), (Some(0), 0));
    }

    /// No array at the path: nothing streamed, and what is there is kept
    /// for the caller's message.
    #[test]
    fn no_array_at_the_path_is_reported_as_none() {
        for (text, path) in [
            ("{\"data\": {\"list\": {\"a\": 1}}}", "data.list"),
            ("{\"data\": {}}", "data.list"),
            ("{\"data\": [1, 2]}", "data.list"),
            ("{\"list\": null}", "list"),
            ("{\"a\": 1}", ""),
            ("3", "list"),
        ] {
            let (rest, found, got) = stream(text, path).unwrap();
            assert_eq!((found, got.len()), (None, 0), "{text}");
            assert_eq!(
                rest,
                parse_json(text.as_bytes(), "p.json").unwrap(),
                "{text}"
            );
        }
    }

    /// Bad JSON is the same one-line error as a whole parse gives, with
    /// its line and column; a key on the path given twice is an error, not
    /// the last one silently.
    #[test]
    fn bad_json_and_a_repeated_key_are_errors_with_their_place() {
        for text in [
            "{\"list\": [1, 2",
            "{\"list\": [1, 2]} x",
            "{\"list\": [1,, 2]}",
            "",
        ] {
            let streamed = stream(text, "list").unwrap_err();
            let whole = parse_json(text.as_bytes(), "p.json")
                .unwrap_err()
                .to_string();
            assert_eq!(streamed, whole, "{text}");
            assert!(
                streamed.starts_with("p.json: not valid JSON at line 1 column"),
                "{streamed}"
            );
        }
        let e = stream("{\"list\": [1],\n\"list\": [2]}", "list").unwrap_err();
        assert!(e.contains("key `list` appears twice"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }
}
