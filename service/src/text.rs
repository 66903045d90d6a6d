//! SEC-5: text that clients send. Control characters cut searches short (a NUL), forge log
//! lines and CSV rows (CR/LF, ESC), and bidirectional overrides or invisible characters make a
//! name read differently from what is stored (U+202E, U+200B); none of them is stored. Line
//! breaks are allowed where text has lines: addresses, notes (reasons, descriptions) and the
//! bodies of notice templates.

/// Characters that change how surrounding text is displayed without being seen: the
/// bidirectional embeddings, overrides and isolates, and the zero-width space, word joiner
/// and byte-order mark. Joiners (U+200C, U+200D) and the directional marks (U+200E, U+200F)
/// stay: scripts such as Persian and emoji sequences need them.
fn is_invisible_override(ch: char) -> bool {
    matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

fn is_line_break(ch: char) -> bool {
    matches!(ch, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// Why `text` is refused, or `Ok` when it may be stored. `lines`: line breaks are allowed.
pub fn check(text: &str, lines: bool) -> Result<(), String> {
    for ch in text.chars() {
        if is_line_break(ch) {
            if !lines {
                return Err(format!(
                    "must be one line: remove the line break (U+{:04X})",
                    u32::from(ch)
                ));
            }
        } else if ch.is_control() {
            return Err(format!(
                "contains a control character (U+{:04X}); remove it",
                u32::from(ch)
            ));
        } else if is_invisible_override(ch) {
            return Err(format!(
                "contains an invisible or text-direction character (U+{:04X}); remove it",
                u32::from(ch)
            ));
        }
    }
    Ok(())
}

/// Fields whose text has lines: a field named for notes, a reason or a description, and the
/// lines of an address. `field` is the field's name, or its path (`address.line1`).
pub fn has_lines(field: &str) -> bool {
    let name = field.rsplit('.').next().unwrap_or(field);
    let name = name.split('[').next().unwrap_or(name);
    // A postal address in one field, and the bodies of a notice template (N-2).
    matches!(
        name,
        "notes" | "note" | "description" | "association_address" | "text" | "html"
    ) || name.ends_with("reason")
        || (field.contains("address") && name.starts_with("line"))
        || name.starts_with("address_line")
}

/// SEC-5: an email address of the usual form: `local@domain.tld`, at most 254 characters, a
/// local part of at most 64 without spaces, quotes or brackets, and a domain of labels of
/// letters, digits and hyphens.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.chars().count() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|ch| {
            !ch.is_whitespace()
                && !ch.is_control()
                && !is_invisible_override(ch)
                && !"\"(),:;<>@[\\]".contains(ch)
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.chars().count() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|ch| ch.is_alphanumeric() || ch == '-')
        });
    email.chars().count() <= 254 && local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sec5_control_and_override_characters_are_refused() {
        for bad in [
            "Ana\u{0}",
            "\u{1b}[31mred",
            "two\r\nlines",
            "evil\u{202E}gnp.exe",
            "zero\u{200B}width",
            "tab\there",
            "del\u{7f}",
            "c1\u{85}",
            "isolate\u{2067}",
            "bom\u{feff}",
            "sep\u{2028}",
        ] {
            assert!(check(bad, false).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "Ana María",
            "O'Brien-Smith",
            "محمد",
            "می\u{200C}خواهم",
            "👩\u{200D}⚕️",
            "李小龍",
        ] {
            assert_eq!(check(good, false), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn sec5_line_breaks_only_where_text_has_lines() {
        assert_eq!(check("Suite 5\r\nBuilding B", true), Ok(()));
        assert!(check("Suite 5\u{0}", true).is_err());
        assert!(check("x\u{202E}", true).is_err());
        for field in [
            "address.line1",
            "address.line2",
            "reason",
            "notes",
            "rows[2].adjustment_reason",
            "description",
            "address_line1",
        ] {
            assert!(has_lines(field), "{field}");
        }
        for field in ["first_name", "email", "address.city", "q", "phone"] {
            assert!(!has_lines(field), "{field}");
        }
    }

    #[test]
    fn sec5_emails_are_checked_for_form() {
        for good in [
            "ana@example.org",
            "ana.silva+dues@mail.example.co.uk",
            "o'brien@example.ie",
            "josé@correo.example.es",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "ana@@example.org",
            "ana@exa mple.org",
            "ana @example.org",
            "ana@example..org",
            "ana@-example.org",
            ".ana@example.org",
            "an..a@example.org",
            "ana<script>@example.org",
            "ana@example.org\u{0}",
            "ana\u{202E}@example.org",
            "ana@exam_ple.org",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email(&format!("{}@example.org", "a".repeat(65))));
    }
}
