//! A small bounded pull parser over quick-xml for the XML lists: element opens (local name and
//! unescaped attributes), closes and text, with entity references resolved, a depth limit and
//! a text-length limit.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

/// One step through the document.
pub(crate) enum Node {
    /// An element opens: local name and attributes (local names, unescaped values).
    Open(String, Vec<(String, String)>),
    /// An element closes.
    Close(String),
    /// Text (or a resolved reference, or CDATA) inside the current element.
    Text(String),
}

enum Step {
    Open(String, Vec<(String, String)>, bool),
    Close(String),
    Text(String),
    Eof,
    Skip,
}

/// The pull parser.
pub(crate) struct XmlStream<R: BufRead> {
    reader: Reader<R>,
    buf: Vec<u8>,
    pending_close: Option<String>,
    depth: usize,
    max_depth: usize,
    max_text: usize,
    text_len: usize,
}

impl<R: BufRead> XmlStream<R> {
    pub(crate) fn new(inner: R, max_text: usize) -> Self {
        let mut reader = Reader::from_reader(inner);
        reader.config_mut().trim_text(false);
        Self { reader, buf: Vec::new(), pending_close: None, depth: 0, max_depth: 64, max_text, text_len: 0 }
    }

    /// The byte position reached, for error reports.
    pub(crate) fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// The next node, `Ok(None)` at the end, `Err` on malformed XML or a limit.
    pub(crate) fn next_node(&mut self) -> Result<Option<Node>, String> {
        if let Some(name) = self.pending_close.take() {
            self.depth = self.depth.saturating_sub(1);
            return Ok(Some(Node::Close(name)));
        }
        loop {
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            let step = Self::step(&mut self.reader, &mut buf);
            self.buf = buf;
            match step? {
                Step::Open(name, attrs, empty) => {
                    if self.depth >= self.max_depth {
                        return Err("elements nested too deeply".into());
                    }
                    self.depth += 1;
                    self.text_len = 0;
                    if empty {
                        self.pending_close = Some(name.clone());
                    }
                    return Ok(Some(Node::Open(name, attrs)));
                }
                Step::Close(name) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(Some(Node::Close(name)));
                }
                Step::Text(text) => return self.text(text),
                Step::Eof => return Ok(None),
                Step::Skip => {}
            }
        }
    }

    fn step(reader: &mut Reader<R>, buf: &mut Vec<u8>) -> Result<Step, String> {
        let event = reader.read_event_into(buf).map_err(|e| e.to_string())?;
        Ok(match event {
            Event::Start(e) => Step::Open(e.local_name().into_inner().to_owned(), attributes(&e)?, false),
            Event::Empty(e) => Step::Open(e.local_name().into_inner().to_owned(), attributes(&e)?, true),
            Event::End(e) => Step::Close(e.local_name().into_inner().to_owned()),
            Event::Text(t) => Step::Text(t.xml10_content().into_owned()),
            Event::CData(t) => Step::Text(t.xml10_content().into_owned()),
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| e.to_string())?.map(String::from)
                } else {
                    resolve_predefined_entity(&r.xml10_content()).map(String::from)
                };
                Step::Text(resolved.unwrap_or_default())
            }
            Event::Eof => Step::Eof,
            _ => Step::Skip,
        })
    }

    fn text(&mut self, text: String) -> Result<Option<Node>, String> {
        self.text_len += text.len();
        if self.text_len > self.max_text {
            return Err(format!("text longer than {} bytes", self.max_text));
        }
        Ok(Some(Node::Text(text)))
    }
}

fn attributes(e: &quick_xml::events::BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = attr.key.local_name().into_inner().to_owned();
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| e.to_string())?.into_owned();
        if out.len() < 64 {
            out.push((key, value));
        }
    }
    Ok(out)
}

/// The value of attribute `key`.
pub(crate) fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}
