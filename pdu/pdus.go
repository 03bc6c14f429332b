package pdu

// This file declares every SMPP v3.4/v5.0 PDU: its Go type, its command id
// and, in its Fields method, its body in wire order (pdus.md §4). Types
// whose body is identical to another's are defined from it, so the layout is
// written once and the Fields method converts and delegates.

// BindTransmitter is bind_transmitter; bind_receiver and bind_transceiver
// share its body.
type BindTransmitter struct {
	Header
	SystemID         string
	Password         string
	SystemType       string
	InterfaceVersion uint8
	AddrTON          uint8
	AddrNPI          uint8
	AddressRange     string
	TLVs             TLVs
}

// BindReceiver is bind_receiver; its body is that of BindTransmitter.
type BindReceiver BindTransmitter

// BindTransceiver is bind_transceiver; its body is that of BindTransmitter.
type BindTransceiver BindTransmitter

// Fields declares the bind body.
func (p *BindTransmitter) Fields(f *Fields) {
	f.CString("system_id", &p.SystemID, 16)
	f.CString("password", &p.Password, 9)
	f.CString("system_type", &p.SystemType, 13)
	f.Uint8("interface_version", &p.InterfaceVersion)
	f.Uint8("addr_ton", &p.AddrTON)
	f.Uint8("addr_npi", &p.AddrNPI)
	f.CString("address_range", &p.AddressRange, 41)
	f.TLVs(&p.TLVs)
}

// Fields declares the bind body.
func (p *BindReceiver) Fields(f *Fields) { (*BindTransmitter)(p).Fields(f) }

// Fields declares the bind body.
func (p *BindTransceiver) Fields(f *Fields) { (*BindTransmitter)(p).Fields(f) }

// BindTransmitterResp is bind_transmitter_resp: the MC's system_id and,
// optionally, sc_interface_version.
type BindTransmitterResp struct {
	Header
	SystemID string
	TLVs     TLVs
}

// BindReceiverResp is bind_receiver_resp.
type BindReceiverResp BindTransmitterResp

// BindTransceiverResp is bind_transceiver_resp.
type BindTransceiverResp BindTransmitterResp

// Fields declares the bind response body.
func (p *BindTransmitterResp) Fields(f *Fields) {
	f.CString("system_id", &p.SystemID, 16)
	f.TLVs(&p.TLVs)
}

// Fields declares the bind response body.
func (p *BindReceiverResp) Fields(f *Fields) { (*BindTransmitterResp)(p).Fields(f) }

// Fields declares the bind response body.
func (p *BindTransceiverResp) Fields(f *Fields) { (*BindTransmitterResp)(p).Fields(f) }

// Outbind is outbind: the MC asks the ESME to bind.
type Outbind struct {
	Header
	SystemID string
	Password string
	TLVs     TLVs
}

// Fields declares the outbind body.
func (p *Outbind) Fields(f *Fields) {
	f.CString("system_id", &p.SystemID, 16)
	f.CString("password", &p.Password, 9)
	f.TLVs(&p.TLVs)
}

// GenericNack is generic_nack: header only, the reason in CommandStatus.
type GenericNack struct {
	Header
	TLVs TLVs
}

// Unbind is unbind (header only).
type Unbind GenericNack

// UnbindResp is unbind_resp (header only).
type UnbindResp GenericNack

// EnquireLink is enquire_link (header only).
type EnquireLink GenericNack

// EnquireLinkResp is enquire_link_resp (header only).
type EnquireLinkResp GenericNack

// CancelSMResp is cancel_sm_resp (header only).
type CancelSMResp GenericNack

// ReplaceSMResp is replace_sm_resp (header only).
type ReplaceSMResp GenericNack

// CancelBroadcastSMResp is cancel_broadcast_sm_resp (header only, v5.0).
type CancelBroadcastSMResp GenericNack

// Fields declares a header-only body: nothing but TLVs (v5.0 allows
// congestion_state on any response).
func (p *GenericNack) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *Unbind) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *UnbindResp) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *EnquireLink) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *EnquireLinkResp) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *CancelSMResp) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *ReplaceSMResp) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// Fields declares the (empty) body.
func (p *CancelBroadcastSMResp) Fields(f *Fields) { f.TLVs(&p.TLVs) }

// SubmitSM is submit_sm: a short message from an ESME.
type SubmitSM struct {
	Header
	ServiceType          string
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           string
	DestAddrTON          uint8
	DestAddrNPI          uint8
	DestinationAddr      string
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   uint8
	ReplaceIfPresentFlag uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// DeliverSM is deliver_sm: a message (or a delivery receipt) from the MC. Its
// body is that of SubmitSM.
type DeliverSM SubmitSM

// Fields declares the submit_sm / deliver_sm body.
func (p *SubmitSM) Fields(f *Fields) {
	f.CString("service_type", &p.ServiceType, 6)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.Uint8("dest_addr_ton", &p.DestAddrTON)
	f.Uint8("dest_addr_npi", &p.DestAddrNPI)
	f.CString("destination_addr", &p.DestinationAddr, 21)
	f.Uint8("esm_class", &p.ESMClass)
	f.Uint8("protocol_id", &p.ProtocolID)
	f.Uint8("priority_flag", &p.PriorityFlag)
	f.Time("schedule_delivery_time", &p.ScheduleDeliveryTime)
	f.Time("validity_period", &p.ValidityPeriod)
	f.Uint8("registered_delivery", &p.RegisteredDelivery)
	f.Uint8("replace_if_present_flag", &p.ReplaceIfPresentFlag)
	f.Uint8("data_coding", &p.DataCoding)
	f.Uint8("sm_default_msg_id", &p.SMDefaultMsgID)
	f.ShortMessage(&p.ShortMessage)
	f.TLVs(&p.TLVs)
}

// Fields declares the deliver_sm body.
func (p *DeliverSM) Fields(f *Fields) { (*SubmitSM)(p).Fields(f) }

// SubmitSMResp is submit_sm_resp: the MC's message_id.
type SubmitSMResp struct {
	Header
	MessageID string
	TLVs      TLVs
}

// DeliverSMResp is deliver_sm_resp (message_id unused, NULL).
type DeliverSMResp SubmitSMResp

// DataSMResp is data_sm_resp.
type DataSMResp SubmitSMResp

// BroadcastSMResp is broadcast_sm_resp (v5.0).
type BroadcastSMResp SubmitSMResp

// QueryBroadcastSMResp is query_broadcast_sm_resp (v5.0); message_state,
// broadcast_area_identifier and broadcast_area_success travel as TLVs.
type QueryBroadcastSMResp SubmitSMResp

// Fields declares the message_id response body.
func (p *SubmitSMResp) Fields(f *Fields) {
	f.CString("message_id", &p.MessageID, 65)
	f.TLVs(&p.TLVs)
}

// Fields declares the message_id response body.
func (p *DeliverSMResp) Fields(f *Fields) { (*SubmitSMResp)(p).Fields(f) }

// Fields declares the message_id response body.
func (p *DataSMResp) Fields(f *Fields) { (*SubmitSMResp)(p).Fields(f) }

// Fields declares the message_id response body.
func (p *BroadcastSMResp) Fields(f *Fields) { (*SubmitSMResp)(p).Fields(f) }

// Fields declares the message_id response body.
func (p *QueryBroadcastSMResp) Fields(f *Fields) { (*SubmitSMResp)(p).Fields(f) }

// dest_flag values of a submit_multi destination.
const (
	DestFlagSME          uint8 = 0x01 // an SME address
	DestFlagDistribution uint8 = 0x02 // a distribution list name
)

// DestAddress is one destination of submit_multi: an SME address
// (Flag DestFlagSME, with TON, NPI and Addr) or a distribution list
// (Flag DestFlagDistribution, with DLName).
type DestAddress struct {
	Flag   uint8
	TON    uint8
	NPI    uint8
	Addr   string
	DLName string
}

// SubmitMulti is submit_multi: one message to up to 255 destinations.
type SubmitMulti struct {
	Header
	ServiceType          string
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           string
	DestAddresses        []DestAddress
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   uint8
	ReplaceIfPresentFlag uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// Fields declares the submit_multi body.
func (p *SubmitMulti) Fields(f *Fields) {
	f.CString("service_type", &p.ServiceType, 6)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.List("number_of_dests", "dest_address", len(p.DestAddresses),
		func(k int) { p.DestAddresses = make([]DestAddress, k) },
		func(i int) {
			d := &p.DestAddresses[i]
			f.Uint8("dest_flag", &d.Flag)
			switch d.Flag {
			case DestFlagSME:
				f.Uint8("dest_addr_ton", &d.TON)
				f.Uint8("dest_addr_npi", &d.NPI)
				f.CString("destination_addr", &d.Addr, 21)
			case DestFlagDistribution:
				f.CString("dl_name", &d.DLName, 21)
			default:
				f.Fail("dest_flag", ESME_RINVDESTFLAG, "dest_flag %d is neither 1 (SME) nor 2 (distribution list)", d.Flag)
			}
		})
	f.Uint8("esm_class", &p.ESMClass)
	f.Uint8("protocol_id", &p.ProtocolID)
	f.Uint8("priority_flag", &p.PriorityFlag)
	f.Time("schedule_delivery_time", &p.ScheduleDeliveryTime)
	f.Time("validity_period", &p.ValidityPeriod)
	f.Uint8("registered_delivery", &p.RegisteredDelivery)
	f.Uint8("replace_if_present_flag", &p.ReplaceIfPresentFlag)
	f.Uint8("data_coding", &p.DataCoding)
	f.Uint8("sm_default_msg_id", &p.SMDefaultMsgID)
	f.ShortMessage(&p.ShortMessage)
	f.TLVs(&p.TLVs)
}

// UnsuccessSME is one destination submit_multi could not accept.
type UnsuccessSME struct {
	DestAddrTON     uint8
	DestAddrNPI     uint8
	DestinationAddr string
	ErrorStatusCode Status
}

// SubmitMultiResp is submit_multi_resp.
type SubmitMultiResp struct {
	Header
	MessageID string
	Unsuccess []UnsuccessSME
	TLVs      TLVs
}

// Fields declares the submit_multi_resp body.
func (p *SubmitMultiResp) Fields(f *Fields) {
	f.CString("message_id", &p.MessageID, 65)
	f.List("no_unsuccess", "unsuccess_sme", len(p.Unsuccess),
		func(k int) { p.Unsuccess = make([]UnsuccessSME, k) },
		func(i int) {
			u := &p.Unsuccess[i]
			f.Uint8("dest_addr_ton", &u.DestAddrTON)
			f.Uint8("dest_addr_npi", &u.DestAddrNPI)
			f.CString("destination_addr", &u.DestinationAddr, 21)
			f.Uint32("error_status_code", (*uint32)(&u.ErrorStatusCode))
		})
	f.TLVs(&p.TLVs)
}

// DataSM is data_sm: a message in either direction, its user data in the
// message_payload TLV.
type DataSM struct {
	Header
	ServiceType        string
	SourceAddrTON      uint8
	SourceAddrNPI      uint8
	SourceAddr         string
	DestAddrTON        uint8
	DestAddrNPI        uint8
	DestinationAddr    string
	ESMClass           uint8
	RegisteredDelivery uint8
	DataCoding         uint8
	TLVs               TLVs
}

// Fields declares the data_sm body.
func (p *DataSM) Fields(f *Fields) {
	f.CString("service_type", &p.ServiceType, 6)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 65)
	f.Uint8("dest_addr_ton", &p.DestAddrTON)
	f.Uint8("dest_addr_npi", &p.DestAddrNPI)
	f.CString("destination_addr", &p.DestinationAddr, 65)
	f.Uint8("esm_class", &p.ESMClass)
	f.Uint8("registered_delivery", &p.RegisteredDelivery)
	f.Uint8("data_coding", &p.DataCoding)
	f.TLVs(&p.TLVs)
}

// AlertNotification is alert_notification: a subscriber became reachable.
// It has no response.
type AlertNotification struct {
	Header
	SourceAddrTON uint8
	SourceAddrNPI uint8
	SourceAddr    string
	ESMEAddrTON   uint8
	ESMEAddrNPI   uint8
	ESMEAddr      string
	TLVs          TLVs
}

// Fields declares the alert_notification body.
func (p *AlertNotification) Fields(f *Fields) {
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 65)
	f.Uint8("esme_addr_ton", &p.ESMEAddrTON)
	f.Uint8("esme_addr_npi", &p.ESMEAddrNPI)
	f.CString("esme_addr", &p.ESMEAddr, 65)
	f.TLVs(&p.TLVs)
}

// QuerySM is query_sm: the state of an earlier message.
type QuerySM struct {
	Header
	MessageID     string
	SourceAddrTON uint8
	SourceAddrNPI uint8
	SourceAddr    string
	TLVs          TLVs
}

// QueryBroadcastSM is query_broadcast_sm (v5.0); its body is that of QuerySM.
type QueryBroadcastSM QuerySM

// Fields declares the query_sm body.
func (p *QuerySM) Fields(f *Fields) {
	f.CString("message_id", &p.MessageID, 65)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.TLVs(&p.TLVs)
}

// Fields declares the query_broadcast_sm body.
func (p *QueryBroadcastSM) Fields(f *Fields) { (*QuerySM)(p).Fields(f) }

// QuerySMResp is query_sm_resp.
type QuerySMResp struct {
	Header
	MessageID    string
	FinalDate    string
	MessageState MessageState
	ErrorCode    uint8
	TLVs         TLVs
}

// Fields declares the query_sm_resp body.
func (p *QuerySMResp) Fields(f *Fields) {
	f.CString("message_id", &p.MessageID, 65)
	f.Time("final_date", &p.FinalDate)
	f.Uint8("message_state", (*uint8)(&p.MessageState))
	f.Uint8("error_code", &p.ErrorCode)
	f.TLVs(&p.TLVs)
}

// CancelSM is cancel_sm.
type CancelSM struct {
	Header
	ServiceType     string
	MessageID       string
	SourceAddrTON   uint8
	SourceAddrNPI   uint8
	SourceAddr      string
	DestAddrTON     uint8
	DestAddrNPI     uint8
	DestinationAddr string
	TLVs            TLVs
}

// Fields declares the cancel_sm body.
func (p *CancelSM) Fields(f *Fields) {
	f.CString("service_type", &p.ServiceType, 6)
	f.CString("message_id", &p.MessageID, 65)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.Uint8("dest_addr_ton", &p.DestAddrTON)
	f.Uint8("dest_addr_npi", &p.DestAddrNPI)
	f.CString("destination_addr", &p.DestinationAddr, 21)
	f.TLVs(&p.TLVs)
}

// ReplaceSM is replace_sm.
type ReplaceSM struct {
	Header
	MessageID            string
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           string
	ScheduleDeliveryTime string
	ValidityPeriod       string
	RegisteredDelivery   uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte
	TLVs                 TLVs
}

// Fields declares the replace_sm body.
func (p *ReplaceSM) Fields(f *Fields) {
	f.CString("message_id", &p.MessageID, 65)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.Time("schedule_delivery_time", &p.ScheduleDeliveryTime)
	f.Time("validity_period", &p.ValidityPeriod)
	f.Uint8("registered_delivery", &p.RegisteredDelivery)
	f.Uint8("sm_default_msg_id", &p.SMDefaultMsgID)
	f.ShortMessage(&p.ShortMessage)
	f.TLVs(&p.TLVs)
}

// BroadcastSM is broadcast_sm (v5.0, cell broadcast). Its mandatory TLVs
// (broadcast_area_identifier, broadcast_content_type, broadcast_rep_num,
// broadcast_frequency_interval) travel in TLVs.
type BroadcastSM struct {
	Header
	ServiceType          string
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           string
	MessageID            string
	PriorityFlag         uint8
	ScheduleDeliveryTime string
	ValidityPeriod       string
	ReplaceIfPresentFlag uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	TLVs                 TLVs
}

// Fields declares the broadcast_sm body.
func (p *BroadcastSM) Fields(f *Fields) {
	f.CString("service_type", &p.ServiceType, 6)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.CString("message_id", &p.MessageID, 65)
	f.Uint8("priority_flag", &p.PriorityFlag)
	f.Time("schedule_delivery_time", &p.ScheduleDeliveryTime)
	f.Time("validity_period", &p.ValidityPeriod)
	f.Uint8("replace_if_present_flag", &p.ReplaceIfPresentFlag)
	f.Uint8("data_coding", &p.DataCoding)
	f.Uint8("sm_default_msg_id", &p.SMDefaultMsgID)
	f.TLVs(&p.TLVs)
}

// CancelBroadcastSM is cancel_broadcast_sm (v5.0).
type CancelBroadcastSM struct {
	Header
	ServiceType   string
	MessageID     string
	SourceAddrTON uint8
	SourceAddrNPI uint8
	SourceAddr    string
	TLVs          TLVs
}

// Fields declares the cancel_broadcast_sm body.
func (p *CancelBroadcastSM) Fields(f *Fields) {
	f.CString("service_type", &p.ServiceType, 6)
	f.CString("message_id", &p.MessageID, 65)
	f.Uint8("source_addr_ton", &p.SourceAddrTON)
	f.Uint8("source_addr_npi", &p.SourceAddrNPI)
	f.CString("source_addr", &p.SourceAddr, 21)
	f.TLVs(&p.TLVs)
}

// CommandID methods: one line each, the id of each type.

func (*GenericNack) CommandID() CommandID           { return GenericNackID }
func (*BindReceiver) CommandID() CommandID          { return BindReceiverID }
func (*BindReceiverResp) CommandID() CommandID      { return BindReceiverRespID }
func (*BindTransmitter) CommandID() CommandID       { return BindTransmitterID }
func (*BindTransmitterResp) CommandID() CommandID   { return BindTransmitterRespID }
func (*QuerySM) CommandID() CommandID               { return QuerySMID }
func (*QuerySMResp) CommandID() CommandID           { return QuerySMRespID }
func (*SubmitSM) CommandID() CommandID              { return SubmitSMID }
func (*SubmitSMResp) CommandID() CommandID          { return SubmitSMRespID }
func (*DeliverSM) CommandID() CommandID             { return DeliverSMID }
func (*DeliverSMResp) CommandID() CommandID         { return DeliverSMRespID }
func (*Unbind) CommandID() CommandID                { return UnbindID }
func (*UnbindResp) CommandID() CommandID            { return UnbindRespID }
func (*ReplaceSM) CommandID() CommandID             { return ReplaceSMID }
func (*ReplaceSMResp) CommandID() CommandID         { return ReplaceSMRespID }
func (*CancelSM) CommandID() CommandID              { return CancelSMID }
func (*CancelSMResp) CommandID() CommandID          { return CancelSMRespID }
func (*BindTransceiver) CommandID() CommandID       { return BindTransceiverID }
func (*BindTransceiverResp) CommandID() CommandID   { return BindTransceiverRespID }
func (*Outbind) CommandID() CommandID               { return OutbindID }
func (*EnquireLink) CommandID() CommandID           { return EnquireLinkID }
func (*EnquireLinkResp) CommandID() CommandID       { return EnquireLinkRespID }
func (*SubmitMulti) CommandID() CommandID           { return SubmitMultiID }
func (*SubmitMultiResp) CommandID() CommandID       { return SubmitMultiRespID }
func (*AlertNotification) CommandID() CommandID     { return AlertNotificationID }
func (*DataSM) CommandID() CommandID                { return DataSMID }
func (*DataSMResp) CommandID() CommandID            { return DataSMRespID }
func (*BroadcastSM) CommandID() CommandID           { return BroadcastSMID }
func (*BroadcastSMResp) CommandID() CommandID       { return BroadcastSMRespID }
func (*QueryBroadcastSM) CommandID() CommandID      { return QueryBroadcastSMID }
func (*QueryBroadcastSMResp) CommandID() CommandID  { return QueryBroadcastSMRespID }
func (*CancelBroadcastSM) CommandID() CommandID     { return CancelBroadcastSMID }
func (*CancelBroadcastSMResp) CommandID() CommandID { return CancelBroadcastSMRespID }
