package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/smppkit/smpp/text"
)

// The meaning of the numeric fields people most often have to look up: the
// readable decode output shows it beside the value, and send's --*-ton and
// --*-npi flags take these names.

var tonNames = map[uint8]string{0: "unknown", 1: "international", 2: "national", 3: "network specific",
	4: "subscriber number", 5: "alphanumeric", 6: "abbreviated"}

var npiNames = map[uint8]string{0: "unknown", 1: "ISDN/E.164", 3: "data/X.121", 4: "telex/F.69",
	6: "land mobile/E.212", 8: "national", 9: "private", 10: "ERMES", 13: "internet/IP", 18: "WAP client id"}

// Short names accepted by the flags, besides the numbers.
var tonFlagNames = map[string]uint8{"unknown": 0, "international": 1, "intl": 1, "national": 2, "network": 3,
	"subscriber": 4, "alphanumeric": 5, "alnum": 5, "abbreviated": 6}

var npiFlagNames = map[string]uint8{"unknown": 0, "isdn": 1, "e164": 1, "e.164": 1, "data": 3, "x121": 3, "telex": 4,
	"land": 6, "e212": 6, "national": 8, "private": 9, "ermes": 10, "internet": 13, "ip": 13, "wap": 18}

// parseTONNPI reads a TON or NPI flag: a number (0-255) or a name.
func parseTONNPI(s string, names map[string]uint8) (uint8, error) {
	if n, err := strconv.ParseUint(s, 0, 8); err == nil {
		return uint8(n), nil
	}
	if v, ok := names[strings.ToLower(s)]; ok {
		return v, nil
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return 0, fmt.Errorf("%q is neither a number nor one of %s", s, strings.Join(keys, ", "))
}

// meaning returns what the value of a field means, or "".
func meaning(field string, v uint64) string {
	b := uint8(v)
	switch {
	case strings.HasSuffix(field, "_ton") || field == "addr_ton":
		if n, ok := tonNames[b]; ok {
			return n
		}
		return "reserved TON"
	case strings.HasSuffix(field, "_npi") || field == "addr_npi":
		if n, ok := npiNames[b]; ok {
			return n
		}
		return "reserved NPI"
	}
	switch field {
	case "esm_class":
		return esmClassMeaning(b)
	case "data_coding":
		return dataCodingMeaning(b)
	case "registered_delivery":
		return registeredDeliveryMeaning(b)
	case "interface_version":
		return fmt.Sprintf("SMPP v%d.%d", b>>4, b&15)
	}
	return ""
}

func esmClassMeaning(b uint8) string {
	var parts []string
	switch b & 3 {
	case 0:
		parts = append(parts, "default mode")
	case 1:
		parts = append(parts, "datagram mode")
	case 2:
		parts = append(parts, "forward mode")
	case 3:
		parts = append(parts, "store and forward mode")
	}
	switch b & 0x3C {
	case 0:
	case 0x04:
		parts = append(parts, "delivery receipt")
	case 0x08:
		parts = append(parts, "delivery acknowledgement")
	case 0x10:
		parts = append(parts, "user acknowledgement")
	case 0x18:
		parts = append(parts, "conversation abort")
	case 0x20:
		parts = append(parts, "intermediate notification")
	default:
		parts = append(parts, fmt.Sprintf("message type 0x%02x", b&0x3C))
	}
	if b&0x40 != 0 {
		parts = append(parts, "UDHI (user data header)")
	}
	if b&0x80 != 0 {
		parts = append(parts, "reply path")
	}
	return strings.Join(parts, ", ")
}

func dataCodingMeaning(b uint8) string {
	switch b {
	case 0:
		return "MC default alphabet, read as GSM 03.38 unless --dc0 says otherwise"
	case 1:
		return "IA5/ASCII"
	case 2, 4:
		return "8-bit binary"
	case 3:
		return "Latin-1"
	case 5:
		return "JIS"
	case 6:
		return "Cyrillic (ISO 8859-5)"
	case 7:
		return "Latin/Hebrew (ISO 8859-8)"
	case 8:
		return "UCS-2"
	case 9:
		return "pictogram"
	case 10:
		return "music codes (ISO-2022-JP)"
	case 13:
		return "extended kanji JIS"
	case 14:
		return "KS C 5601"
	}
	switch c := text.CodingOf(b, text.GSM7); c {
	case text.GSM7:
		return "GSM 7-bit (DCS group)"
	case text.UCS2:
		return "UCS-2 (DCS group)"
	case text.Binary:
		return "8-bit binary (DCS group)"
	}
	return "reserved or unsupported"
}

func registeredDeliveryMeaning(b uint8) string {
	var parts []string
	switch b & 3 {
	case 0:
		parts = append(parts, "no receipt")
	case 1:
		parts = append(parts, "receipt on final outcome")
	case 2:
		parts = append(parts, "receipt on failure")
	case 3:
		parts = append(parts, "receipt on success (v5.0)")
	}
	switch b & 0x0C {
	case 0x04:
		parts = append(parts, "delivery acknowledgement")
	case 0x08:
		parts = append(parts, "user acknowledgement")
	case 0x0C:
		parts = append(parts, "delivery and user acknowledgement")
	}
	if b&0x10 != 0 {
		parts = append(parts, "intermediate notification")
	}
	return strings.Join(parts, ", ")
}
