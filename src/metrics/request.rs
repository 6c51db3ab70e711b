//! The one kind of request the listener answers: an HTTP/1.x `GET` (or `HEAD`) of a path. Anything
//! else is refused with the status code that says why.

/// Longest request head read (request line and headers); scrapers send a few hundred bytes.
pub const MAX_HEAD: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The path, without the query string.
    pub path: String,
    /// HEAD: the same answer without its body.
    pub head_only: bool,
}

/// Why a request is refused: its HTTP status and a short reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
}

const fn bad(reason: &'static str) -> Refusal {
    Refusal {
        status: 400,
        reason,
    }
}

/// Where the head of the request ends (after the blank line), once `buffer` holds all of it.
pub fn head_end(buffer: &[u8]) -> Option<usize> {
    buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|at| at + 4)
        .or_else(|| {
            buffer
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|at| at + 2)
        })
}

/// Parses the head of a request (everything up to and including the blank line).
pub fn parse(head: &[u8]) -> Result<Request, Refusal> {
    let text = std::str::from_utf8(head).map_err(|_| bad("not UTF-8"))?;
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(bad("unsupported HTTP version"));
    }
    // Any control character, C1 (U+0080..U+009F) included: none belongs in a path, and a path may
    // name an instance (/health/NAME) that could end up in a log line.
    if !target.starts_with('/') || target.chars().any(char::is_control) {
        return Err(bad("malformed target"));
    }
    for header in lines.take_while(|line| !line.is_empty()) {
        let Some((name, _)) = header.split_once(':') else {
            return Err(bad("malformed header"));
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad("malformed header"));
        }
        // A body would have to be read and is never expected.
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            let value = header[name.len() + 1..].trim();
            if value != "0" {
                return Err(bad("a request body is not accepted"));
            }
        }
    }
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => {
            return Err(Refusal {
                status: 405,
                reason: "only GET and HEAD",
            });
        }
        _ => return Err(bad("malformed method")),
    };
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Ok(Request {
        path: path.to_owned(),
        head_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrapers_get_is_read_with_its_path() {
        let head = b"GET /metrics?x=1 HTTP/1.1\r\nHost: 192.0.2.1:9650\r\nAccept: */*\r\n\r\n";
        assert_eq!(head_end(head), Some(head.len()));
        let request = parse(head).unwrap();
        assert_eq!(request.path, "/metrics");
        assert!(!request.head_only);
        assert!(parse(b"HEAD /health HTTP/1.0\n\n").unwrap().head_only);
    }

    #[test]
    fn bad_requests_are_refused_with_400_and_a_reason() {
        let cases: [&[u8]; 12] = [
            b"\r\n\r\n",
            b"GET\r\n\r\n",
            b"GET /metrics\r\n\r\n",
            b"GET /metrics HTTP/2.0\r\n\r\n",
            b"GET  /metrics HTTP/1.1\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics HTTP/1.1 extra\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
            b"G\xffT /metrics HTTP/1.1\r\n\r\n",
            b"GET /health/a\x1bb HTTP/1.1\r\n\r\n",
            // U+0087, a C1 control (found by the metrics_request fuzz target).
            b"GET /health/a\xc2\x87b HTTP/1.1\r\n\r\n",
        ];
        for head in cases {
            let refusal = parse(head).unwrap_err();
            assert_eq!(refusal.status, 400, "{:?}", String::from_utf8_lossy(head));
        }
        assert_eq!(parse(b"get / HTTP/1.1\r\n\r\n").unwrap_err().status, 400);
    }

    #[test]
    fn other_methods_are_refused_with_405() {
        let refusal = parse(b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").unwrap_err();
        assert_eq!(refusal.status, 405);
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
    }
}
