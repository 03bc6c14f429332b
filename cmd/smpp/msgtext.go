package main

import "github.com/smppkit/smpp/text"

// textDecoder returns the function decode and --trace use to show message
// octets as text: the text package's decoding (GSM 03.38 with its escapes
// and national shift tables for data_coding 0 unless c says otherwise, and
// every other coding it knows), the same as listen and Inbound use. A user
// data header (esm_class UDHI) is skipped. ok is false for binary data and
// octets that do not decode.
func textDecoder(c *text.Codec) func(dataCoding, esmClass uint8, b []byte) (string, bool) {
	return func(dataCoding, esmClass uint8, b []byte) (string, bool) {
		d, err := c.Decode(b, dataCoding, esmClass&0x40 != 0)
		if err != nil {
			return "", false
		}
		return d.Text, true
	}
}

// messageText is textDecoder with the common link settings (data_coding 0
// is GSM 7-bit, unpacked).
var messageText = textDecoder(nil)
