//! Server-side HTML for the console: escaping, the page frame, and a generic rendering of
//! stored JSON (check details, applicant data) as nested definition lists.
//!
//! Every value that reaches a page goes through [`escape`]; the only unescaped text is the
//! markup written in this crate.

use std::fmt::Write as _;

use serde_json::Value;

/// Deepest JSON nesting rendered; deeper values are summarised.
const MAX_DEPTH: usize = 8;
/// Most array items or object members rendered per level.
const MAX_ITEMS: usize = 200;
/// Longest string rendered (in characters); longer ones are cut with an ellipsis.
const MAX_STRING_CHARS: usize = 2000;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: `title` (escaped here) and `body` (already safe HTML), with the console's
/// stylesheet and, when `signed_in` is given, the reviewer's email and a sign-out form.
pub fn page(title: &str, signed_in: Option<(&str, &str)>, body: &str) -> String {
    let mut header = String::from("<header><p class=\"brand\">TrustCap review console</p>");
    if let Some((email, csrf)) = signed_in {
        let _ = write!(
            header,
            "<nav aria-label=\"Console\"><a href=\"/console\">Queue</a> <a href=\"/console/settings\">Settings</a> \
             <span class=\"who\">{}</span> <form method=\"post\" action=\"/console/logout\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form></nav>",
            escape(email),
            escape(csrf)
        );
    }
    header.push_str("</header>");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · TrustCap review</title><link rel=\"stylesheet\" href=\"/console/static/console.css\"></head>\
         <body>{header}<main id=\"main\">{body}</main></body></html>\n",
        escape(title)
    )
}

/// Renders a JSON value: objects as `<dl>`, arrays as `<ol>`, scalars as escaped text.
pub fn json_value(value: &Value) -> String {
    let mut out = String::new();
    render(&mut out, value, 0);
    out
}

fn scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("<span class=\"null\">none</span>"),
        Value::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
        Value::Number(n) => out.push_str(&escape(&n.to_string())),
        Value::String(s) => {
            if s.chars().count() > MAX_STRING_CHARS {
                let cut: String = s.chars().take(MAX_STRING_CHARS).collect();
                out.push_str(&escape(&cut));
                out.push('…');
            } else {
                out.push_str(&escape(s));
            }
        }
        Value::Array(_) | Value::Object(_) => {}
    }
}

fn render(out: &mut String, value: &Value, depth: usize) {
    if depth >= MAX_DEPTH && (value.is_array() || value.is_object()) {
        out.push_str("<span class=\"null\">(nested too deeply)</span>");
        return;
    }
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("<span class=\"null\">none</span>"),
        Value::Object(map) => {
            out.push_str("<dl>");
            for (key, item) in map.iter().take(MAX_ITEMS) {
                let _ = write!(out, "<dt>{}</dt><dd>", escape(&key.replace('_', " ")));
                render(out, item, depth + 1);
                out.push_str("</dd>");
            }
            if map.len() > MAX_ITEMS {
                let _ = write!(out, "<dt>…</dt><dd>{} more</dd>", map.len() - MAX_ITEMS);
            }
            out.push_str("</dl>");
        }
        Value::Array(items) if items.is_empty() => out.push_str("<span class=\"null\">none</span>"),
        Value::Array(items) => {
            out.push_str("<ol>");
            for item in items.iter().take(MAX_ITEMS) {
                out.push_str("<li>");
                render(out, item, depth + 1);
                out.push_str("</li>");
            }
            if items.len() > MAX_ITEMS {
                let _ = write!(out, "<li>… {} more</li>", items.len() - MAX_ITEMS);
            }
            out.push_str("</ol>");
        }
        scalar_value => scalar(out, scalar_value),
    }
}

/// The console's stylesheet (served as a file: the CSP allows no inline style).
pub const STYLESHEET: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#111;background:#fff;line-height:1.4}\
header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;background:#0b3d91;color:#fff}\
header a,header .who{color:#fff;margin-right:1rem}\
.brand{font-weight:bold;margin:0}\
main{padding:1rem;max-width:90rem}\
.inline{display:inline}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #888;padding:.3rem .5rem;text-align:left;vertical-align:top}\
.media{display:flex;flex-wrap:wrap;gap:1rem}\
figure{margin:0;border:1px solid #888;padding:.5rem;max-width:28rem}\
figure img{max-width:100%;height:auto;display:block}\
.checks{display:grid;grid-template-columns:repeat(auto-fill,minmax(24rem,1fr));gap:1rem}\
.check{border:1px solid #888;padding:.5rem}\
dl{margin:.2rem 0 .2rem .5rem}\
dt{font-weight:bold}\
dd{margin:0 0 .2rem 1rem}\
.passed{color:#0a5a0a}\
.failed{color:#9b0000}\
.inconclusive,.error{color:#6b4a00}\
.null{color:#555}\
.notice{border:2px solid #0b3d91;padding:.5rem;background:#eef3fb}\
.problem{border:2px solid #9b0000;padding:.5rem;background:#fdeeee}\
label{display:block;margin-top:.5rem;font-weight:bold}\
input,select,textarea,button{font:inherit;margin-top:.2rem}\
textarea{width:100%;max-width:40rem}\
.actions{display:flex;flex-wrap:wrap;gap:1rem}\
.actions form{border:1px solid #888;padding:.5rem}\
button{padding:.3rem .8rem}\
";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape("a & \"b\""), "a &amp; &quot;b&quot;");
        assert_eq!(escape("plain Ünïcode"), "plain Ünïcode");
        assert_eq!(escape(""), "");
        // Escaping is not idempotent by design: an already escaped entity is escaped again.
        assert_eq!(escape("&amp;"), "&amp;amp;");
    }

    #[test]
    fn json_renders_escaped_and_bounded() {
        let value = json!({"family_name": "<b>O'Brien</b>", "hits": [{"score": 0.91}], "ok": true, "none": null});
        let html = json_value(&value);
        assert!(html.contains("&lt;b&gt;O&#39;Brien&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>"));
        assert!(html.contains("<dt>family name</dt>"));
        assert!(html.contains("<li><dl><dt>score</dt><dd>0.91</dd></dl></li>"), "{html}");
        let mut deep = json!(1);
        for _ in 0..50 {
            deep = json!([deep]);
        }
        assert!(json_value(&deep).contains("nested too deeply"));
        let many = Value::Array((0..1000).map(|i| json!(i)).collect());
        assert!(json_value(&many).contains("800 more"));
        let long = Value::String("x".repeat(5000));
        assert!(json_value(&long).ends_with('…'));
    }

    #[test]
    fn page_escapes_title_and_identity() {
        let html = page("<t>", Some(("a\"@b", "tok")), "<p>body</p>");
        assert!(html.contains("&lt;t&gt; · TrustCap"));
        assert!(html.contains("a&quot;@b"));
        assert!(html.contains("<html lang=\"en\">"));
        assert!(!html.contains("<script"));
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_markup(text in ".*") {
            let out = escape(&text);
            proptest::prop_assert!(!out.contains('<') && !out.contains('>') && !out.contains('"') && !out.contains('\''));
        }
    }
}
