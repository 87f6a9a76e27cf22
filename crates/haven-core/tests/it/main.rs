//! Property tests of the domain's parsers: every value a user, a form or a spreadsheet cell
//! can send goes through one of these, so for any input they must answer (never panic), and
//! what they accept must read back as itself.

mod parsers;
