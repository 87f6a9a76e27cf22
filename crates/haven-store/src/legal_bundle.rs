//! The court bundle: a PDF of selected evidence and the statements survivors shared for the
//! case, with a cover index, page numbers, each item's SHA-256 and chain of custody, and a
//! manifest (JSON) printed on the last pages and also returned on its own, so anyone can
//! re-compute each file's SHA-256 and compare.
//!
//! Every file is read back and verified before it is listed: a bundle never vouches for a
//! file that fails its integrity check. The PDF is written in-process with `pdf-writer`.
//! Lines the standard Courier and Helvetica fonts can print (WinAnsi) use them; any other line
//! (a Khmer or Vietnamese name) is shaped with `rustybuzz` and drawn with the vendored Noto
//! Sans and Noto Sans Khmer fonts, embedded as subsets (`subsetter`) with a ToUnicode map and
//! the line's text as `ActualText`, so it prints and copies back as written. The printed
//! manifest keeps every non-ASCII character as a `\u` escape.

// Rows are decoded as tuples next to the query that names their columns; actions take the
// acting user, the audit context and the case as separate arguments, like the rest of the store.
#![allow(clippy::type_complexity, clippy::too_many_arguments)]

use crate::evidence::{self, EvidenceDetail, Locker};
use crate::legal::{audit_read, visible_case};
use crate::users::User;
use crate::{on_pool, survivors, Db, Keyring, StoreError};
use chrono::{DateTime, Utc};
use haven_core::legal::CaseAccess;
use haven_core::{RequestContext, SurvivorField, SurvivorId};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const MANIFEST_FORMAT: &str = "haven-court-bundle/1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestCustody {
    pub seq: i64,
    pub from: Option<String>,
    pub to: String,
    pub at: DateTime<Utc>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestItem {
    pub number: usize,
    pub id: Uuid,
    pub title: String,
    pub kind: String,
    pub file_name: Option<String>,
    pub media_type: Option<String>,
    pub size_bytes: Option<i64>,
    /// SHA-256 of the original file (hex); none for a physical item.
    pub sha256: Option<String>,
    pub collected_by: String,
    pub collected_at: DateTime<Utc>,
    pub collected_where: String,
    pub collected_how: String,
    pub custody: Vec<ManifestCustody>,
    /// The PDF page where the item is described.
    pub page: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManifestStatement {
    pub number: usize,
    pub survivor_reference: String,
    /// SHA-256 of the statement's text (UTF-8), as printed.
    pub sha256: String,
    pub page: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    pub case_reference: String,
    pub case_title: String,
    pub court: String,
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    pub items: Vec<ManifestItem>,
    pub statements: Vec<ManifestStatement>,
}

/// A rendered bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub pdf: Vec<u8>,
    pub manifest: Manifest,
    pub pages: usize,
}

/// What goes into the bundle, as the store gathered and verified it.
#[derive(Debug, Clone)]
pub struct BundleInput {
    pub case_reference: String,
    pub case_title: String,
    pub court: String,
    pub prosecutor: String,
    pub judge: String,
    pub generated_at: DateTime<Utc>,
    pub generated_by: String,
    pub items: Vec<EvidenceDetail>,
    /// (her reference, her statement)
    pub statements: Vec<(String, String)>,
}

/// Builds the bundle of the chosen items (and her shared statements, when asked) for a case.
/// Lawyers and managers only. Each file is verified first. Audited.
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(user = %user.id, case = %case_id))]
pub async fn build(
    db: &Db,
    keyring: &Keyring,
    locker: &Locker,
    user: &User,
    ctx: &RequestContext,
    case_id: Uuid,
    items: &[Uuid],
    with_statements: bool,
) -> Result<Bundle, StoreError> {
    let case = visible_case(db, user, case_id, CaseAccess::works_case).await?;
    let mut ids = Vec::new();
    for id in items {
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    if ids.is_empty() && !with_statements {
        return Err(haven_core::ValidationError::new(
            "evidence",
            "choose at least one item or the statements for the bundle",
        )
        .into());
    }
    let details = evidence::details_for_bundle(db, keyring, user, case.id, &ids).await?;
    for d in &details {
        if d.summary.sha256.is_some() {
            let check = evidence::verify(db, keyring, locker, user, ctx, d.summary.id).await?;
            if let Some(problem) = check.problem {
                return Err(StoreError::Conflict(problem));
            }
        }
    }
    let mut statements = Vec::new();
    if with_statements {
        let linked: Vec<(Uuid, String)> = on_pool!(db, pool => sqlx::query_as(
            "SELECT cs.survivor_id, s.reference FROM legal_case_survivors cs JOIN survivors s ON s.id = cs.survivor_id
             WHERE cs.case_id = $1 ORDER BY s.reference")
            .bind(case.id)
            .fetch_all(pool)
            .await?);
        for (survivor, reference) in linked {
            let withdrawn: Option<String> = on_pool!(db, pool => sqlx::query_scalar(
                "SELECT decision FROM legal_decisions WHERE case_id = $1 AND survivor_id = $2 ORDER BY decided_at DESC, id DESC LIMIT 1")
                .bind(case.id)
                .bind(survivor)
                .fetch_optional(pool)
                .await?);
            if withdrawn.as_deref() == Some("withdrawn") {
                continue;
            }
            if let Ok(view) =
                survivors::read(db, keyring, user, ctx, SurvivorId::from_uuid(survivor)).await
            {
                if let Some(text) = view.fields.get(&SurvivorField::Statement) {
                    statements.push((reference, text.clone()));
                }
            }
        }
    }
    let input = BundleInput {
        case_reference: case.reference.clone(),
        case_title: case.title.clone(),
        court: case.court.clone(),
        prosecutor: case.prosecutor.clone(),
        judge: case.judge.clone(),
        generated_at: crate::clock::now(),
        generated_by: user.display_name.clone(),
        items: details,
        statements,
    };
    let bundle = tokio::task::spawn_blocking(move || render(&input))
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
    audit_read(
        db,
        ctx,
        "legal_case.bundle",
        "legal_case",
        case.id,
        &["evidence", "custody", "statements"],
    )
    .await?;
    Ok(bundle)
}

// ---- Rendering ----

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const LEADING: f32 = 12.5;
/// Courier 9.5 pt is 5.7 pt per character: 84 characters across the text block.
const COLUMNS: usize = 84;
const LINES_PER_PAGE: usize = 56;

#[derive(Clone)]
enum Line {
    Heading(String),
    Text(String),
    Blank,
}

/// Text as WinAnsi bytes; anything outside prints as `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// Whether a character is drawn as part of the one before it.
fn joins_previous(c: char) -> bool {
    matches!(
        u32::from(c),
        0x17b4..=0x17d3 | 0x17dd | 0x0300..=0x036f | 0x200c | 0x200d
    )
}

fn wrap(text: &str, out: &mut Vec<Line>) {
    for raw in text.lines() {
        let chars: Vec<char> = raw.chars().collect();
        if chars.is_empty() {
            out.push(Line::Blank);
            continue;
        }
        let mut start = 0;
        while start < chars.len() {
            let mut end = (start + COLUMNS).min(chars.len());
            // Never split a written cluster: a Khmer vowel sign, a subscript consonant after
            // its coeng, or a combining accent stays with the letter it belongs to.
            let mut at = end;
            while at < chars.len()
                && at > start + 1
                && (joins_previous(chars[at]) || chars[at - 1] == '\u{17d2}')
            {
                at -= 1;
            }
            if at > start + 1 {
                end = at;
            }
            out.push(Line::Text(chars[start..end].iter().collect()));
            start = end;
        }
    }
}

/// JSON with every non-ASCII character escaped, so the printed manifest is exact.
pub fn ascii_json(manifest: &Manifest) -> Result<String, StoreError> {
    let json =
        serde_json::to_string_pretty(manifest).map_err(|e| StoreError::Internal(e.to_string()))?;
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

fn item_lines(n: usize, d: &EvidenceDetail) -> Vec<Line> {
    let s = &d.summary;
    let mut lines = vec![Line::Heading(format!("Item {n}: {}", s.title)), Line::Blank];
    let mut field = |label: &str, value: &str| wrap(&format!("{label:<16}{value}"), &mut lines);
    field("Kind:", &s.kind.replace('_', " "));
    if let Some(name) = &s.file_name {
        field("File name:", name);
    }
    if let Some(t) = &s.media_type {
        field("Media type:", t);
    }
    if let Some(size) = s.size_bytes {
        field("Size:", &format!("{size} bytes"));
    }
    field(
        "SHA-256:",
        s.sha256.as_deref().unwrap_or("(physical item: no file)"),
    );
    field("Collected by:", &s.collected_by);
    field(
        "Collected at:",
        &s.collected_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    );
    field("Where:", &s.collected_where);
    field("How:", &s.collected_how);
    lines.push(Line::Blank);
    lines.push(Line::Heading("Chain of custody".to_owned()));
    for c in &d.custody {
        wrap(
            &format!(
                "{}. {}  {} -> {}: {}",
                c.seq,
                c.at.format("%Y-%m-%d %H:%M UTC"),
                c.from.as_deref().unwrap_or("(received)"),
                c.to,
                c.reason
            ),
            &mut lines,
        );
    }
    lines
}

fn paginate(lines: Vec<Line>) -> Vec<Vec<Line>> {
    let mut pages: Vec<Vec<Line>> = lines.chunks(LINES_PER_PAGE).map(<[Line]>::to_vec).collect();
    if pages.is_empty() {
        pages.push(Vec::new());
    }
    pages
}

// ---- Fonts for text outside WinAnsi ----

/// Noto Sans (Latin, including Vietnamese) and Noto Sans Khmer, SIL Open Font License 1.1
/// (`assets/fonts/OFL.txt`).
const LATIN_FONT: &[u8] = include_bytes!("../assets/fonts/NotoSans-Regular.ttf");
const KHMER_FONT: &[u8] = include_bytes!("../assets/fonts/NotoSansKhmer-Regular.ttf");

/// Whether the standard fonts can print the text as it is.
fn win_ansi_only(s: &str) -> bool {
    s.chars()
        .all(|c| matches!(u32::from(c), 0x20..=0x7e | 0xa0..=0xff))
}

fn is_khmer(c: char) -> bool {
    matches!(u32::from(c), 0x1780..=0x17ff | 0x19e0..=0x19ff)
}

/// Splits a line into runs for one font each: `true` for Khmer. Spaces and zero-width joiners
/// stay with the run they are in.
fn runs(text: &str) -> Vec<(bool, &str)> {
    let mut out: Vec<(bool, &str)> = Vec::new();
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (i, c) in text.char_indices() {
        let neutral = c.is_whitespace() || matches!(c, '\u{200b}'..='\u{200d}');
        let khmer = if neutral {
            current.unwrap_or(false)
        } else {
            is_khmer(c)
        };
        match current {
            Some(k) if k != khmer => {
                out.push((k, &text[start..i]));
                start = i;
                current = Some(khmer);
            }
            None => current = Some(khmer),
            _ => {}
        }
    }
    if let Some(k) = current {
        out.push((k, &text[start..]));
    }
    out
}

/// One embedded font: the face, the glyphs used (renumbered for the subset) and what text
/// each stands for.
struct Embedded {
    data: &'static [u8],
    family: &'static str,
    face: rustybuzz::Face<'static>,
    remapper: subsetter::GlyphRemapper,
    text_of: BTreeMap<u16, String>,
    used: bool,
}

/// A glyph placed on the line: its ID in the subset and its offset, in text space units.
struct Placed {
    gid: u16,
    x: f32,
    y: f32,
}

impl Embedded {
    fn new(data: &'static [u8], family: &'static str) -> Result<Embedded, StoreError> {
        let face = rustybuzz::Face::from_slice(data, 0)
            .ok_or_else(|| StoreError::Internal(format!("the {family} font cannot be read")))?;
        Ok(Embedded {
            data,
            family,
            face,
            remapper: subsetter::GlyphRemapper::new(),
            text_of: BTreeMap::new(),
            used: false,
        })
    }

    fn scale(&self, size: f32) -> f32 {
        size / (self.face.units_per_em().max(1) as f32)
    }

    /// Shapes a run at `size` pt from `x`; returns the glyphs and the new `x`.
    fn shape(&mut self, text: &str, size: f32, mut x: f32) -> (Vec<Placed>, f32) {
        self.used = true;
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&self.face, &[], buffer);
        let infos = shaped.glyph_infos();
        let positions = shaped.glyph_positions();
        let scale = self.scale(size);
        // Cluster starts (byte offsets), to know which text each glyph stands for.
        let mut starts: Vec<usize> = infos
            .iter()
            .filter_map(|g| usize::try_from(g.cluster).ok())
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut placed = Vec::with_capacity(infos.len());
        for (info, pos) in infos.iter().zip(positions) {
            let old = u16::try_from(info.glyph_id).unwrap_or(0);
            let gid = self.remapper.remap(old);
            let start = usize::try_from(info.cluster).unwrap_or(0);
            let end = starts
                .iter()
                .copied()
                .find(|s| *s > start)
                .unwrap_or(text.len());
            let cluster = text.get(start..end).unwrap_or_default();
            let glyphs_in_cluster = infos.iter().filter(|g| g.cluster == info.cluster).count();
            if !self.text_of.contains_key(&gid) {
                let meaning = if glyphs_in_cluster == 1 {
                    Some(cluster.to_owned())
                } else {
                    cluster
                        .chars()
                        .find(|c| self.face.glyph_index(*c).is_some_and(|g| g.0 == old))
                        .map(String::from)
                };
                if let Some(meaning) = meaning.filter(|m| !m.is_empty()) {
                    self.text_of.insert(gid, meaning);
                }
            }
            placed.push(Placed {
                gid,
                x: x + pos.x_offset as f32 * scale,
                y: pos.y_offset as f32 * scale,
            });
            x += pos.x_advance as f32 * scale;
        }
        (placed, x)
    }

    fn used(&self) -> bool {
        self.used
    }

    /// Writes the Type 0 font, its CID font, descriptor, subset font program and ToUnicode
    /// map, starting at `first` (five objects).
    fn write(&self, pdf: &mut Pdf, first: Ref) -> Result<(), StoreError> {
        let type0 = first;
        let cid = Ref::new(first.get() + 1);
        let descriptor = Ref::new(first.get() + 2);
        let program = Ref::new(first.get() + 3);
        let to_unicode = Ref::new(first.get() + 4);
        let subset = subsetter::subset(self.data, 0, &self.remapper)
            .map_err(|e| StoreError::Internal(format!("subsetting {}: {e:?}", self.family)))?;
        // The subset tag: six capitals derived from the glyphs kept, so the same bundle
        // gives the same bytes.
        let olds: Vec<u16> = self.remapper.remapped_gids().collect();
        let digest = Sha256::digest(
            olds.iter()
                .flat_map(|g| g.to_be_bytes())
                .collect::<Vec<u8>>(),
        );
        let tag: String = digest
            .iter()
            .take(6)
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let base = format!("{tag}+{}", self.family);
        let per_mille = 1000.0 / (self.face.units_per_em().max(1) as f32);
        let widths: Vec<f32> = olds
            .iter()
            .map(|g| {
                f32::from(
                    self.face
                        .glyph_hor_advance(rustybuzz::ttf_parser::GlyphId(*g))
                        .unwrap_or(0),
                ) * per_mille
            })
            .collect();
        pdf.type0_font(type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(to_unicode);
        let mut font = pdf.cid_font(cid);
        font.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(SystemInfo {
                registry: Str(b"Adobe"),
                ordering: Str(b"Identity"),
                supplement: 0,
            })
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        font.widths().consecutive(0, widths);
        font.finish();
        let bbox = self.face.global_bounding_box();
        let flags = if self.family.contains("Khmer") {
            FontFlags::SYMBOLIC
        } else {
            FontFlags::NON_SYMBOLIC
        };
        pdf.font_descriptor(descriptor)
            .name(Name(base.as_bytes()))
            .flags(flags)
            .bbox(Rect::new(
                f32::from(bbox.x_min) * per_mille,
                f32::from(bbox.y_min) * per_mille,
                f32::from(bbox.x_max) * per_mille,
                f32::from(bbox.y_max) * per_mille,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(self.face.ascender()) * per_mille)
            .descent(f32::from(self.face.descender()) * per_mille)
            .cap_height(
                f32::from(
                    self.face
                        .capital_height()
                        .unwrap_or_else(|| self.face.ascender()),
                ) * per_mille,
            )
            .stem_v(80.0)
            .font_file2(program);
        pdf.stream(program, &subset).pair(
            Name(b"Length1"),
            i32::try_from(subset.len()).unwrap_or(i32::MAX),
        );
        let mut cmap = UnicodeCmap::new(
            Name(b"Haven-UCS"),
            SystemInfo {
                registry: Str(b"Adobe"),
                ordering: Str(b"UCS"),
                supplement: 0,
            },
        );
        for (gid, text) in &self.text_of {
            cmap.pair_with_multiple(*gid, text.chars());
        }
        pdf.cmap(to_unicode, &cmap.finish());
        Ok(())
    }
}

/// The two embedded fonts, used only when a line needs them.
struct Fonts {
    latin: Embedded,
    khmer: Embedded,
}

impl Fonts {
    fn new() -> Result<Fonts, StoreError> {
        Ok(Fonts {
            latin: Embedded::new(LATIN_FONT, "NotoSans-Regular")?,
            khmer: Embedded::new(KHMER_FONT, "NotoSansKhmer-Regular")?,
        })
    }

    /// Draws a line with the embedded fonts, marked with its text for copying and search.
    fn line(&mut self, content: &mut Content, text: &str, size: f32, y: f32) {
        content
            .begin_marked_content_with_properties(Name(b"Span"))
            .properties()
            .actual_text(TextStr(text));
        content.begin_text();
        let mut x = MARGIN;
        for (khmer, run) in runs(text) {
            let (font, name) = if khmer {
                (&mut self.khmer, Name(b"F4"))
            } else {
                (&mut self.latin, Name(b"F3"))
            };
            let (glyphs, end) = font.shape(run, size, x);
            content.set_font(name, size);
            for g in glyphs {
                content
                    .set_text_matrix([1.0, 0.0, 0.0, 1.0, g.x, y + g.y])
                    .show(Str(&g.gid.to_be_bytes()));
            }
            x = end;
        }
        content.end_text();
        content.end_marked_content();
    }
}

/// Lays out and writes the PDF. Pure: the same input gives the same bytes.
pub fn render(input: &BundleInput) -> Result<Bundle, StoreError> {
    // Sections after the cover: one per item, one per statement, then the manifest.
    let mut sections: Vec<Vec<Vec<Line>>> = Vec::new();
    for (i, d) in input.items.iter().enumerate() {
        sections.push(paginate(item_lines(i + 1, d)));
    }
    for (i, (reference, text)) in input.statements.iter().enumerate() {
        let mut lines = vec![
            Line::Heading(format!(
                "Statement {}: survivor {reference}",
                input.items.len() + i + 1
            )),
            Line::Text(format!(
                "SHA-256 of the text: {}",
                evidence::hex(&Sha256::digest(text.as_bytes()))
            )),
            Line::Blank,
        ];
        wrap(text, &mut lines);
        sections.push(paginate(lines));
    }
    let entries = input.items.len() + input.statements.len();
    // The cover holds 30 index lines on its first page, then full pages.
    let cover_pages = 1 + (entries + 1).saturating_sub(30).div_ceil(LINES_PER_PAGE);
    let mut start_pages = Vec::new();
    let mut page = cover_pages + 1;
    for s in &sections {
        start_pages.push(page);
        page += s.len();
    }
    let manifest_page = page;
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        case_reference: input.case_reference.clone(),
        case_title: input.case_title.clone(),
        court: input.court.clone(),
        generated_at: input.generated_at,
        generated_by: input.generated_by.clone(),
        items: input
            .items
            .iter()
            .enumerate()
            .map(|(i, d)| ManifestItem {
                number: i + 1,
                id: d.summary.id,
                title: d.summary.title.clone(),
                kind: d.summary.kind.clone(),
                file_name: d.summary.file_name.clone(),
                media_type: d.summary.media_type.clone(),
                size_bytes: d.summary.size_bytes,
                sha256: d.summary.sha256.clone(),
                collected_by: d.summary.collected_by.clone(),
                collected_at: d.summary.collected_at,
                collected_where: d.summary.collected_where.clone(),
                collected_how: d.summary.collected_how.clone(),
                custody: d
                    .custody
                    .iter()
                    .map(|c| ManifestCustody {
                        seq: c.seq,
                        from: c.from.clone(),
                        to: c.to.clone(),
                        at: c.at,
                        reason: c.reason.clone(),
                    })
                    .collect(),
                page: start_pages.get(i).copied().unwrap_or(0),
            })
            .collect(),
        statements: input
            .statements
            .iter()
            .enumerate()
            .map(|(i, (reference, text))| ManifestStatement {
                number: input.items.len() + i + 1,
                survivor_reference: reference.clone(),
                sha256: evidence::hex(&Sha256::digest(text.as_bytes())),
                page: start_pages.get(input.items.len() + i).copied().unwrap_or(0),
            })
            .collect(),
    };
    let mut manifest_lines = vec![
        Line::Heading("Manifest".to_owned()),
        Line::Text(
            "To re-verify: compute the SHA-256 of each original file and compare it with"
                .to_owned(),
        ),
        Line::Text("\"sha256\" below. Non-ASCII characters are written as \\u escapes.".to_owned()),
        Line::Blank,
    ];
    wrap(&ascii_json(&manifest)?, &mut manifest_lines);
    sections.push(paginate(manifest_lines));

    let mut cover = vec![
        Line::Heading("COURT BUNDLE".to_owned()),
        Line::Blank,
        Line::Text(format!("Case:        {}", input.case_reference)),
        Line::Text(format!("Title:       {}", input.case_title)),
        Line::Text(format!("Court:       {}", input.court)),
        Line::Text(format!("Prosecutor:  {}", input.prosecutor)),
        Line::Text(format!("Judge:       {}", input.judge)),
        Line::Text(format!(
            "Prepared:    {} by {}",
            input.generated_at.format("%Y-%m-%d %H:%M UTC"),
            input.generated_by
        )),
        Line::Text(format!("Items:       {}", input.items.len())),
        Line::Blank,
        Line::Text("Every file listed was read back and its SHA-256 verified when this".to_owned()),
        Line::Text(
            "bundle was prepared. The manifest on the last pages lists them all.".to_owned(),
        ),
        Line::Blank,
        Line::Heading("Index".to_owned()),
        Line::Blank,
    ];
    for (i, d) in input.items.iter().enumerate() {
        let title: String = d.summary.title.chars().take(60).collect();
        cover.push(Line::Text(format!(
            "{:>3}. {title:<66} page {}",
            i + 1,
            start_pages.get(i).copied().unwrap_or(0)
        )));
    }
    for (i, (reference, _)) in input.statements.iter().enumerate() {
        let n = input.items.len() + i;
        cover.push(Line::Text(format!(
            "{:>3}. {:<66} page {}",
            n + 1,
            format!("Statement of survivor {reference}"),
            start_pages.get(n).copied().unwrap_or(0)
        )));
    }
    cover.push(Line::Text(format!(
        "     {:<66} page {manifest_page}",
        "Manifest"
    )));
    let mut cover_pages_lines = vec![cover.iter().take(45).cloned().collect::<Vec<_>>()];
    for chunk in cover
        .iter()
        .skip(45)
        .cloned()
        .collect::<Vec<_>>()
        .chunks(LINES_PER_PAGE)
    {
        cover_pages_lines.push(chunk.to_vec());
    }
    let mut all: Vec<Vec<Line>> = cover_pages_lines;
    for s in sections {
        all.extend(s);
    }
    let total = all.len();

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let mut next = 6;
    let mut page_ids = Vec::with_capacity(total);
    let mut content_ids = Vec::with_capacity(total);
    for _ in 0..total {
        page_ids.push(Ref::new(next));
        content_ids.push(Ref::new(next + 1));
        next += 2;
    }
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(total).unwrap_or(i32::MAX));
    pdf.type1_font(regular)
        .base_font(Name(b"Courier"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("Court bundle {}", input.case_reference);
    pdf.document_info(info)
        .title(TextStr(&title))
        .creator(TextStr("Haven"));
    let mut fonts = Fonts::new()?;
    for (i, lines) in all.iter().enumerate() {
        let mut content = Content::new();
        let mut y = HEIGHT - MARGIN;
        for line in lines {
            match line {
                Line::Heading(text) if !win_ansi_only(text) => {
                    fonts.line(&mut content, text, 12.0, y);
                }
                Line::Text(text) if !win_ansi_only(text) => {
                    fonts.line(&mut content, text, 9.5, y);
                }
                Line::Heading(text) => {
                    content
                        .begin_text()
                        .set_font(Name(b"F2"), 12.0)
                        .next_line(MARGIN, y)
                        .show(Str(&win_ansi(text)))
                        .end_text();
                }
                Line::Text(text) => {
                    content
                        .begin_text()
                        .set_font(Name(b"F1"), 9.5)
                        .next_line(MARGIN, y)
                        .show(Str(&win_ansi(text)))
                        .end_text();
                }
                Line::Blank => {}
            }
            y -= LEADING;
        }
        let footer = format!("{}  -  page {} of {total}", input.case_reference, i + 1);
        content
            .begin_text()
            .set_font(Name(b"F1"), 8.0)
            .next_line(MARGIN, 30.0)
            .show(Str(&win_ansi(&footer)))
            .end_text();
        pdf.stream(content_ids[i], &content.finish());
    }
    // The embedded fonts are written (and named on the pages) only when some line used them.
    let latin_ref = Ref::new(next);
    let khmer_ref = Ref::new(next + 5);
    let embedded = (fonts.latin.used(), fonts.khmer.used());
    for (i, page_id) in page_ids.iter().enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_ids[i]);
        let mut resources = page.resources();
        let mut names = resources.fonts();
        names.pair(Name(b"F1"), regular).pair(Name(b"F2"), bold);
        if embedded.0 {
            names.pair(Name(b"F3"), latin_ref);
        }
        if embedded.1 {
            names.pair(Name(b"F4"), khmer_ref);
        }
        names.finish();
        resources.finish();
        page.finish();
    }
    if embedded.0 {
        fonts.latin.write(&mut pdf, latin_ref)?;
    }
    if embedded.1 {
        fonts.khmer.write(&mut pdf, khmer_ref)?;
    }
    Ok(Bundle {
        pdf: pdf.finish(),
        manifest,
        pages: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the PDF holds `text` as a text string (UTF-16, written as bytes or in hex).
    fn has_text(pdf: &[u8], text: &str) -> bool {
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        contains(pdf, &bytes)
            || String::from_utf8_lossy(pdf)
                .to_ascii_uppercase()
                .contains(&hex)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// The ToUnicode maps: every `<gid> <utf16>` pair, as text.
    fn cmaps(pdf: &[u8]) -> String {
        let text = String::from_utf8_lossy(pdf);
        text.split("beginbfchar")
            .skip(1)
            .filter_map(|part| part.split("endbfchar").next())
            .collect::<Vec<_>>()
            .join("\n")
            .to_ascii_uppercase()
    }

    #[test]
    fn long_khmer_lines_wrap_between_clusters() {
        // 83 letters, then a consonant with its vowel sign across the 84-character edge.
        let text = format!("{}កេ{}", "ក".repeat(83), "ខ្ញុំ".repeat(30));
        let mut lines = Vec::new();
        wrap(&text, &mut lines);
        let mut rebuilt = String::new();
        for line in &lines {
            let Line::Text(piece) = line else { panic!() };
            let first = piece.chars().next().unwrap();
            assert!(!joins_previous(first), "a piece starts with {first:?}");
            assert!(!piece.ends_with('\u{17d2}'), "a piece ends with a coeng");
            assert!(piece.chars().count() <= COLUMNS);
            rebuilt.push_str(piece);
        }
        assert_eq!(rebuilt, text);
        assert!(lines.len() > 1);
    }

    #[test]
    fn khmer_and_vietnamese_names_print_and_copy_back() {
        let khmer = "សុខ ចាន់ធា";
        let vietnamese = "Nguyễn Thị Hương";
        let input = BundleInput {
            case_reference: "LC-2026-009".to_owned(),
            case_title: format!("Prosecution of {vietnamese}"),
            court: "Phnom Penh Municipal Court".to_owned(),
            prosecutor: format!("ព្រះរាជអាជ្ញា {khmer}"),
            judge: "Prak Sovann".to_owned(),
            generated_at: DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default(),
            generated_by: "Dara Sok".to_owned(),
            items: Vec::new(),
            statements: vec![(
                "PP-2026-001".to_owned(),
                format!("Tôi tên là {vietnamese}. ខ្ញុំឈ្មោះ {khmer}។"),
            )],
        };
        let bundle = render(&input).unwrap();
        let pdf = &bundle.pdf;
        // The lines are drawn with the embedded subsets, not the standard fonts' `?`.
        assert!(contains(pdf, b"/FontFile2"));
        assert!(contains(pdf, b"+NotoSans-Regular"));
        assert!(contains(pdf, b"+NotoSansKhmer-Regular"));
        assert!(!contains(pdf, b"Prosecution of Nguy?n"));
        assert!(!contains(pdf, b"(Prosecutor:  ?"));
        // Each line carries its text exactly (ActualText, UTF-16), so it copies back.
        for line in [
            format!("Title:       Prosecution of {vietnamese}"),
            format!("Prosecutor:  ព្រះរាជអាជ្ញា {khmer}"),
            format!("Tôi tên là {vietnamese}. ខ្ញុំឈ្មោះ {khmer}។"),
        ] {
            assert!(has_text(pdf, &line), "ActualText of {line}");
        }
        // The ToUnicode maps name the characters themselves.
        let maps = cmaps(pdf);
        for c in "ễịươសខចនធ".chars() {
            let hex: String = c
                .encode_utf16(&mut [0u16; 2])
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            assert!(maps.contains(&hex), "ToUnicode has {c} ({hex})");
        }
        // The same input gives the same bytes.
        assert_eq!(render(&input).unwrap().pdf, bundle.pdf);
        // A bundle in plain Latin text embeds nothing.
        let plain = BundleInput {
            case_title: "Prosecution of Chan Vuthy".to_owned(),
            prosecutor: "Keo Ratana".to_owned(),
            statements: Vec::new(),
            ..input
        };
        assert!(!contains(&render(&plain).unwrap().pdf, b"/FontFile2"));
    }
}
