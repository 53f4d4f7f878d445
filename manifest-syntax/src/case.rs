//! The default manifest name: the struct name in snake_case.

/// `Sensor` -> `sensor`, `FlowMeter` -> `flow_meter`, `HTTPServer` -> `http_server`.
///
/// A word boundary is a capital after a lowercase letter or digit, or the last
/// capital of a run of capitals that is followed by a lowercase letter
/// (`HTTPServer` is `HTTP` + `Server`). Digits stay with the word before them
/// (`Mp3Decoder` -> `mp3_decoder`), existing underscores are kept and never doubled.
pub(crate) fn snake_case(ident: &str) -> String {
    let chars: Vec<char> = ident.chars().collect();
    let mut out = String::with_capacity(ident.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower);
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn converts_camel_case() {
        assert_eq!(snake_case("Sensor"), "sensor");
        assert_eq!(snake_case("FlowMeter"), "flow_meter");
        assert_eq!(snake_case("AlarmPanelV2"), "alarm_panel_v2");
    }

    #[test]
    fn keeps_acronyms_together() {
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(snake_case("IOError"), "io_error");
        assert_eq!(snake_case("MyHTTPServer"), "my_http_server");
        assert_eq!(snake_case("ABC"), "abc");
        assert_eq!(snake_case("UdpTLV"), "udp_tlv");
        assert_eq!(snake_case("HTTP2Server"), "http2_server");
    }

    #[test]
    fn digits_stay_with_their_word() {
        assert_eq!(snake_case("Mp3Decoder"), "mp3_decoder");
        assert_eq!(snake_case("Server2"), "server2");
        assert_eq!(snake_case("Stage2Filter"), "stage2_filter");
    }

    #[test]
    fn underscores_are_not_doubled() {
        assert_eq!(snake_case("My_Server"), "my_server");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("_Hidden"), "_hidden");
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(snake_case(""), "");
        assert_eq!(snake_case("X"), "x");
    }
}
