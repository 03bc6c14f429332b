package text_test

import (
	"fmt"

	"github.com/smppkit/smpp/text"
)

func ExampleCodec_Split() {
	c := &text.Codec{Ref: func() uint16 { return 0x2A }}
	// 12 characters, € taking two septets, then 150 digits: 163 septets.
	m, err := c.Split("Hello €uro! "+fmt.Sprintf("%0150d", 0), text.Auto, text.SplitUDH8)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Coding, m.DataCoding, len(m.Segments))
	for _, s := range m.Segments {
		fmt.Printf("UDHI=%v % X… (%d octets)\n", s.UDHI, s.Data[:8], len(s.Data))
	}
	// Output:
	// gsm7 0 2
	// UDHI=true 05 00 03 2A 02 01 48 65… (159 octets)
	// UDHI=true 05 00 03 2A 02 02 30 30… (16 octets)
}

func ExampleCodec_Count() {
	var c text.Codec
	n, _ := c.Count("Привет, мир!", text.Auto, text.SplitUDH8)
	fmt.Println(n.Coding, n.DataCoding, n.Segments, n.Units, n.Left)
	// Output: ucs2 8 1 12 58
}

func ExampleReassembler() {
	c := &text.Codec{}
	m, _ := c.Split(fmt.Sprintf("%0200d", 7), text.Auto, text.SplitUDH16)
	r := &text.Reassembler{Codec: c}
	for i := len(m.Segments) - 1; i >= 0; i-- { // out of order
		s := m.Segments[i]
		msg, done, _ := r.Add(text.Part{Source: "447700900123", Dest: "1234", DataCoding: m.DataCoding, UDHI: s.UDHI, Data: s.Data})
		if done {
			fmt.Println(len(msg.Text), msg.Text[195:])
		}
	}
	// Output: 200 00007
}
