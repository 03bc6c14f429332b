// Package text encodes, counts, splits and reassembles SMS message text for
// SMPP, after 3GPP TS 23.038 (alphabets, data coding scheme) and TS 23.040
// (user data header, concatenation).
//
// It knows the GSM 7-bit default alphabet with its extension table, unpacked
// (one septet per octet, what most SMSCs expect in short_message) and packed
// (with the fill bits a UDH requires); the national language locking-shift
// and single-shift tables for Turkish, Spanish (single shift only) and
// Portuguese, signalled by UDH IEs 0x25 and 0x24; IA5/ASCII, Latin-1,
// ISO-8859-5, ISO-8859-8, UCS-2 (read as UTF-16, so characters outside the
// BMP survive as surrogate pairs) and 8-bit data.
//
// A Codec holds what one link agrees about text: what data_coding 0 means,
// whether septets are packed, which national tables and whether Latin-1 may
// be chosen. Codec.Split chooses the cheapest coding and cuts the text into
// Segments by UDH concatenation (8- or 16-bit reference), SAR TLVs, or one
// message_payload, never inside an escape sequence or a surrogate pair.
// Codec.Count gives the length without building segments. Characters a
// coding cannot carry are reported in an *EncodeError, never replaced unless
// Codec.Replacement asks for it.
//
// A Reassembler joins incoming segments, keyed by source, destination and
// reference, in any order, with a timeout and bounded memory.
//
// The package does not depend on the PDU codec: a Segment is plain data the
// session layer turns into submit_sm PDUs.
package text
