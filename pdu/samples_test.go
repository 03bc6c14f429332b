package pdu

// samples returns one filled-in PDU of every standard command, with TLVs.
func samples() []PDU {
	h := func(seq uint32) Header { return Header{SequenceNumber: seq} }
	var tl TLVs
	tl.SetUint16(TagSarMsgRefNum, 0x1234)
	tl.SetUint8(TagSarTotalSegments, 3)
	tl.SetUint8(TagSarSegmentSeqnum, 1)
	tl.SetUint16(TagUserMessageReference, 77)
	tl.Add(TagCallbackNum, []byte{0, 1, 1, '4', '4', '1'})
	tl.Add(TagCallbackNum, []byte{1, 1, 1, '4', '4', '2'})
	tl.Add(0x1400, []byte("vendor"))
	var bcast TLVs
	bcast.Add(TagBroadcastAreaIdentifier, []byte{0, 'B', 'e', 'r', 'l', 'i', 'n'})
	bcast.Add(TagBroadcastAreaIdentifier, []byte{0, 'B', 'o', 'n', 'n'})
	bcast.Set(TagBroadcastContentType, []byte{1, 0, 0x33})
	bcast.SetUint16(TagBroadcastRepNum, 5)
	bcast.Set(TagBroadcastFrequencyInterval, []byte{0x0A, 0, 2})
	var payload TLVs
	payload.Set(TagMessagePayload, []byte("a message in message_payload"))
	payload.SetUint8(TagMoreMessagesToSend, 0)
	var cong TLVs
	cong.SetUint8(TagCongestionState, 85)
	var scv TLVs
	scv.SetUint8(TagScInterfaceVersion, 0x34)
	var qbr TLVs
	qbr.SetUint8(TagMessageState, uint8(StateEnroute))
	qbr.Add(TagBroadcastAreaIdentifier, []byte{0, 'B'})
	qbr.SetUint8(TagBroadcastAreaSuccess, 50)
	qbr.SetString(TagBroadcastEndTime, "261122103000000+")
	bind := BindTransmitter{Header: h(1), SystemID: "esme1", Password: "secret", SystemType: "VMS", InterfaceVersion: 0x34, AddrTON: 1, AddrNPI: 1, AddressRange: "^4917"}
	bindResp := BindTransmitterResp{Header: h(1), SystemID: "smsc", TLVs: scv}
	submit := SubmitSM{Header: h(2), ServiceType: "CMT", SourceAddrTON: 5, SourceAddr: "Sender", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: "491761234567", ESMClass: 0x40, ProtocolID: 0, PriorityFlag: 1,
		ScheduleDeliveryTime: "000001000000000R", ValidityPeriod: "261231235959000+", RegisteredDelivery: 1,
		DataCoding: 8, ShortMessage: []byte{5, 0, 3, 9, 3, 1, 0, 'H', 0, 'i'}, TLVs: tl}
	resp := SubmitSMResp{Header: h(2), MessageID: "0a1b2c3d4e", TLVs: cong}
	r := typicalReceipt()
	return []PDU{
		&GenericNack{Header: Header{CommandStatus: ESME_RINVCMDID, SequenceNumber: 9}},
		&bind, (*BindReceiver)(&bind), (*BindTransceiver)(&bind),
		&bindResp, (*BindReceiverResp)(&bindResp), (*BindTransceiverResp)(&bindResp),
		&Outbind{Header: h(1), SystemID: "smsc", Password: "pw"},
		&Unbind{Header: h(10)}, &UnbindResp{Header: h(10)},
		&EnquireLink{Header: h(11)}, &EnquireLinkResp{Header: h(11), TLVs: cong},
		&submit, &resp,
		r, &DeliverSMResp{Header: h(7)},
		&SubmitMulti{Header: h(3), SourceAddr: "Sender", DestAddresses: []DestAddress{
			{Flag: DestFlagSME, TON: 1, NPI: 1, Addr: "491761234567"},
			{Flag: DestFlagDistribution, DLName: "friends"},
			{Flag: DestFlagSME, TON: 1, NPI: 1, Addr: "491769999999"}},
			RegisteredDelivery: 1, ShortMessage: []byte("to many")},
		&SubmitMultiResp{Header: h(3), MessageID: "m1", Unsuccess: []UnsuccessSME{
			{DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "491769999999", ErrorStatusCode: ESME_RINVDSTADR}}},
		&DataSM{Header: h(4), ServiceType: "WAP", SourceAddr: "a-long-data-sm-source-address-beyond-21-octets",
			DestAddrTON: 1, DestinationAddr: "491761234567", RegisteredDelivery: 1, TLVs: payload},
		&DataSMResp{Header: h(4), MessageID: "d1"},
		&QuerySM{Header: h(5), MessageID: "0a1b2c3d4e", SourceAddrTON: 5, SourceAddr: "Sender"},
		&QuerySMResp{Header: h(5), MessageID: "0a1b2c3d4e", FinalDate: "261122103000000+", MessageState: StateDelivered},
		&CancelSM{Header: h(6), MessageID: "0a1b2c3d4e", SourceAddr: "Sender", DestinationAddr: "491761234567"},
		&CancelSMResp{Header: h(6)},
		&ReplaceSM{Header: h(8), MessageID: "0a1b2c3d4e", SourceAddr: "Sender", ValidityPeriod: "000002000000000R", RegisteredDelivery: 1, ShortMessage: []byte("new text")},
		&ReplaceSMResp{Header: h(8)},
		&AlertNotification{SourceAddrTON: 1, SourceAddr: "491761234567", ESMEAddr: "Sender", TLVs: TLVs{{TagMsAvailabilityStatus, []byte{0}}}},
		&BroadcastSM{Header: h(12), SourceAddr: "Sender", PriorityFlag: 1, DataCoding: 0, TLVs: append(bcast, payload[0])},
		&BroadcastSMResp{Header: h(12), MessageID: "b1"},
		&QueryBroadcastSM{Header: h(13), MessageID: "b1", SourceAddr: "Sender"},
		&QueryBroadcastSMResp{Header: h(13), MessageID: "b1", TLVs: qbr},
		&CancelBroadcastSM{Header: h(14), ServiceType: "CBS", MessageID: "b1", SourceAddr: "Sender"},
		&CancelBroadcastSMResp{Header: h(14)},
	}
}
