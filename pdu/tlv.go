package pdu

import (
	"encoding/binary"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
)

// Tag identifies a TLV (v3.4: optional parameter).
type Tag uint16

// The standard TLV tags of SMPP v3.4 and v5.0, named after the spec.
const (
	TagDestAddrSubunit            Tag = 0x0005
	TagDestNetworkType            Tag = 0x0006
	TagDestBearerType             Tag = 0x0007
	TagDestTelematicsID           Tag = 0x0008
	TagSourceAddrSubunit          Tag = 0x000D
	TagSourceNetworkType          Tag = 0x000E
	TagSourceBearerType           Tag = 0x000F
	TagSourceTelematicsID         Tag = 0x0010
	TagQosTimeToLive              Tag = 0x0017
	TagPayloadType                Tag = 0x0019
	TagAdditionalStatusInfoText   Tag = 0x001D
	TagReceiptedMessageID         Tag = 0x001E
	TagMsMsgWaitFacilities        Tag = 0x0030
	TagPrivacyIndicator           Tag = 0x0201
	TagSourceSubaddress           Tag = 0x0202
	TagDestSubaddress             Tag = 0x0203
	TagUserMessageReference       Tag = 0x0204
	TagUserResponseCode           Tag = 0x0205
	TagSourcePort                 Tag = 0x020A
	TagDestPort                   Tag = 0x020B
	TagSarMsgRefNum               Tag = 0x020C
	TagLanguageIndicator          Tag = 0x020D
	TagSarTotalSegments           Tag = 0x020E
	TagSarSegmentSeqnum           Tag = 0x020F
	TagScInterfaceVersion         Tag = 0x0210
	TagCallbackNumPresInd         Tag = 0x0302
	TagCallbackNumAtag            Tag = 0x0303
	TagNumberOfMessages           Tag = 0x0304
	TagCallbackNum                Tag = 0x0381
	TagDpfResult                  Tag = 0x0420
	TagSetDpf                     Tag = 0x0421
	TagMsAvailabilityStatus       Tag = 0x0422
	TagNetworkErrorCode           Tag = 0x0423
	TagMessagePayload             Tag = 0x0424
	TagDeliveryFailureReason      Tag = 0x0425
	TagMoreMessagesToSend         Tag = 0x0426
	TagMessageState               Tag = 0x0427
	TagCongestionState            Tag = 0x0428
	TagUssdServiceOp              Tag = 0x0501
	TagBroadcastChannelIndicator  Tag = 0x0600
	TagBroadcastContentType       Tag = 0x0601
	TagBroadcastContentTypeInfo   Tag = 0x0602
	TagBroadcastMessageClass      Tag = 0x0603
	TagBroadcastRepNum            Tag = 0x0604
	TagBroadcastFrequencyInterval Tag = 0x0605
	TagBroadcastAreaIdentifier    Tag = 0x0606
	TagBroadcastErrorStatus       Tag = 0x0607
	TagBroadcastAreaSuccess       Tag = 0x0608
	TagBroadcastEndTime           Tag = 0x0609
	TagBroadcastServiceGroup      Tag = 0x060A
	TagBillingIdentification      Tag = 0x060B
	TagSourceNetworkID            Tag = 0x060D
	TagDestNetworkID              Tag = 0x060E
	TagSourceNodeID               Tag = 0x060F
	TagDestNodeID                 Tag = 0x0610
	TagDestAddrNpResolution       Tag = 0x0611
	TagDestAddrNpInformation      Tag = 0x0612
	TagDestAddrNpCountry          Tag = 0x0613
	TagDisplayTime                Tag = 0x1201
	TagSmsSignal                  Tag = 0x1203
	TagMsValidity                 Tag = 0x1204
	TagAlertOnMessageDelivery     Tag = 0x130C
	TagItsReplyType               Tag = 0x1380
	TagItsSessionInfo             Tag = 0x1383
)

// TLVType says how a TLV's value is encoded, for typed access, validation
// and JSON.
type TLVType uint8

// TLV value types.
const (
	TLVOctets  TLVType = iota // raw octets
	TLVUint8                  // 1-octet integer
	TLVUint16                 // 2-octet integer, big-endian
	TLVUint32                 // 4-octet integer, big-endian
	TLVCString                // C-octet string, its NUL included in the length
	TLVFlag                   // presence only, length 0 (v5.0 also allows 1 octet)
)

// TLVDef describes a TLV: its tag, spec name, value type and the value
// lengths the spec allows (MaxLen 0 means no limit beyond 65535).
type TLVDef struct {
	Tag    Tag
	Name   string
	Type   TLVType
	MinLen int
	MaxLen int
}

var standardTLVs = []TLVDef{
	{TagDestAddrSubunit, "dest_addr_subunit", TLVUint8, 1, 1},
	{TagDestNetworkType, "dest_network_type", TLVUint8, 1, 1},
	{TagDestBearerType, "dest_bearer_type", TLVUint8, 1, 1},
	{TagDestTelematicsID, "dest_telematics_id", TLVUint16, 2, 2},
	{TagSourceAddrSubunit, "source_addr_subunit", TLVUint8, 1, 1},
	{TagSourceNetworkType, "source_network_type", TLVUint8, 1, 1},
	{TagSourceBearerType, "source_bearer_type", TLVUint8, 1, 1},
	// Declared as 1 octet but pointing at the 2-octet dest_telematics_id: accept both.
	{TagSourceTelematicsID, "source_telematics_id", TLVOctets, 1, 2},
	{TagQosTimeToLive, "qos_time_to_live", TLVUint32, 4, 4},
	{TagPayloadType, "payload_type", TLVUint8, 1, 1},
	{TagAdditionalStatusInfoText, "additional_status_info_text", TLVCString, 1, 256},
	{TagReceiptedMessageID, "receipted_message_id", TLVCString, 1, 65},
	{TagMsMsgWaitFacilities, "ms_msg_wait_facilities", TLVUint8, 1, 1},
	{TagPrivacyIndicator, "privacy_indicator", TLVUint8, 1, 1},
	{TagSourceSubaddress, "source_subaddress", TLVOctets, 2, 23},
	{TagDestSubaddress, "dest_subaddress", TLVOctets, 2, 23},
	{TagUserMessageReference, "user_message_reference", TLVUint16, 2, 2},
	{TagUserResponseCode, "user_response_code", TLVUint8, 1, 1},
	{TagSourcePort, "source_port", TLVUint16, 2, 2},
	{TagDestPort, "dest_port", TLVUint16, 2, 2},
	{TagSarMsgRefNum, "sar_msg_ref_num", TLVUint16, 2, 2},
	{TagLanguageIndicator, "language_indicator", TLVUint8, 1, 1},
	{TagSarTotalSegments, "sar_total_segments", TLVUint8, 1, 1},
	{TagSarSegmentSeqnum, "sar_segment_seqnum", TLVUint8, 1, 1},
	{TagScInterfaceVersion, "sc_interface_version", TLVUint8, 1, 1},
	{TagCallbackNumPresInd, "callback_num_pres_ind", TLVUint8, 1, 1},
	{TagCallbackNumAtag, "callback_num_atag", TLVOctets, 1, 65},
	{TagNumberOfMessages, "number_of_messages", TLVUint8, 1, 1},
	{TagCallbackNum, "callback_num", TLVOctets, 4, 19},
	{TagDpfResult, "dpf_result", TLVUint8, 1, 1},
	{TagSetDpf, "set_dpf", TLVUint8, 1, 1},
	{TagMsAvailabilityStatus, "ms_availability_status", TLVUint8, 1, 1},
	{TagNetworkErrorCode, "network_error_code", TLVOctets, 3, 3},
	{TagMessagePayload, "message_payload", TLVOctets, 0, 0},
	{TagDeliveryFailureReason, "delivery_failure_reason", TLVUint8, 1, 1},
	{TagMoreMessagesToSend, "more_messages_to_send", TLVUint8, 1, 1},
	{TagMessageState, "message_state", TLVUint8, 1, 1},
	{TagCongestionState, "congestion_state", TLVUint8, 1, 1},
	{TagUssdServiceOp, "ussd_service_op", TLVUint8, 1, 1},
	{TagBroadcastChannelIndicator, "broadcast_channel_indicator", TLVUint8, 1, 1},
	{TagBroadcastContentType, "broadcast_content_type", TLVOctets, 3, 3},
	{TagBroadcastContentTypeInfo, "broadcast_content_type_info", TLVOctets, 1, 255},
	{TagBroadcastMessageClass, "broadcast_message_class", TLVUint8, 1, 1},
	{TagBroadcastRepNum, "broadcast_rep_num", TLVUint16, 2, 2},
	{TagBroadcastFrequencyInterval, "broadcast_frequency_interval", TLVOctets, 3, 3},
	{TagBroadcastAreaIdentifier, "broadcast_area_identifier", TLVOctets, 1, 101},
	{TagBroadcastErrorStatus, "broadcast_error_status", TLVUint32, 4, 4},
	{TagBroadcastAreaSuccess, "broadcast_area_success", TLVUint8, 1, 1},
	// 16 or 17 octets: the spec's size and its absolute time format disagree.
	{TagBroadcastEndTime, "broadcast_end_time", TLVCString, 16, 17},
	{TagBroadcastServiceGroup, "broadcast_service_group", TLVOctets, 1, 255},
	{TagBillingIdentification, "billing_identification", TLVOctets, 1, 1024},
	{TagSourceNetworkID, "source_network_id", TLVCString, 7, 65},
	{TagDestNetworkID, "dest_network_id", TLVCString, 7, 65},
	{TagSourceNodeID, "source_node_id", TLVOctets, 6, 6},
	{TagDestNodeID, "dest_node_id", TLVOctets, 6, 6},
	{TagDestAddrNpResolution, "dest_addr_np_resolution", TLVUint8, 1, 1},
	{TagDestAddrNpInformation, "dest_addr_np_information", TLVOctets, 10, 10},
	{TagDestAddrNpCountry, "dest_addr_np_country", TLVOctets, 1, 5},
	{TagDisplayTime, "display_time", TLVUint8, 1, 1},
	{TagSmsSignal, "sms_signal", TLVUint16, 2, 2},
	// v3.4: 1 octet; v5.0: 1 or 4.
	{TagMsValidity, "ms_validity", TLVOctets, 1, 4},
	{TagAlertOnMessageDelivery, "alert_on_message_delivery", TLVFlag, 0, 1},
	{TagItsReplyType, "its_reply_type", TLVUint8, 1, 1},
	{TagItsSessionInfo, "its_session_info", TLVOctets, 2, 2},
}

// tlvTables indexes the TLV definitions. RegisterTLV replaces the whole
// value (copy on write), so lookups on the decoding hot path take no lock.
type tlvTables struct {
	byTag  map[Tag]*TLVDef
	byName map[string]*TLVDef
}

var (
	tlvs   atomic.Pointer[tlvTables]
	tlvsMu sync.Mutex // serialises RegisterTLV
)

func init() {
	t := &tlvTables{byTag: map[Tag]*TLVDef{}, byName: map[string]*TLVDef{}}
	for i := range standardTLVs {
		d := &standardTLVs[i]
		t.byTag[d.Tag] = d
		t.byName[d.Name] = d
	}
	tlvs.Store(t)
}

// RegisterTLV adds a custom (vendor) TLV so that it can be addressed by name,
// shown typed and checked for length. Unregistered tags are still kept
// byte-exact.
func RegisterTLV(d TLVDef) error {
	tlvsMu.Lock()
	defer tlvsMu.Unlock()
	old := tlvs.Load()
	if _, ok := old.byTag[d.Tag]; ok {
		return fmt.Errorf("pdu: TLV tag 0x%04X is already defined", uint16(d.Tag))
	}
	if _, ok := old.byName[d.Name]; ok {
		return fmt.Errorf("pdu: TLV name %q is already defined", d.Name)
	}
	t := &tlvTables{byTag: maps.Clone(old.byTag), byName: maps.Clone(old.byName)}
	t.byTag[d.Tag] = &d
	t.byName[d.Name] = &d
	tlvs.Store(t)
	return nil
}

func lookupTLV(t Tag) (*TLVDef, bool) {
	d, ok := tlvs.Load().byTag[t]
	return d, ok
}

// LookupTLV returns the definition of a tag, if it is standard or registered.
func LookupTLV(t Tag) (TLVDef, bool) {
	d, ok := lookupTLV(t)
	if !ok {
		return TLVDef{}, false
	}
	return *d, true
}

// TagByName finds a tag by its spec (or registered) name.
func TagByName(name string) (Tag, bool) {
	d, ok := tlvs.Load().byName[name]
	if !ok {
		return 0, false
	}
	return d.Tag, true
}

// String returns the spec name of the tag, or its hex form.
func (t Tag) String() string {
	if d, ok := LookupTLV(t); ok {
		return d.Name
	}
	return fmt.Sprintf("0x%04X", uint16(t))
}

// TLV is one tag-length-value parameter. Value holds exactly the octets on
// the wire (a C-octet string keeps its NUL).
type TLV struct {
	Tag   Tag
	Value []byte
}

// TLVs is a PDU's TLVs in wire order. Unknown tags and repeats are kept as
// they came, so a decoded PDU re-encodes byte for byte.
type TLVs []TLV

// Get returns the value of the first TLV with the tag.
func (ts TLVs) Get(tag Tag) ([]byte, bool) {
	for i := range ts {
		if ts[i].Tag == tag {
			return ts[i].Value, true
		}
	}
	return nil, false
}

// Has reports whether a TLV with the tag is present.
func (ts TLVs) Has(tag Tag) bool {
	_, ok := ts.Get(tag)
	return ok
}

// All returns the values of every TLV with the tag, for repeatable TLVs
// (callback_num, broadcast_area_identifier, …).
func (ts TLVs) All(tag Tag) [][]byte {
	var out [][]byte
	for i := range ts {
		if ts[i].Tag == tag {
			out = append(out, ts[i].Value)
		}
	}
	return out
}

// Uint8 returns a 1-octet integer TLV.
func (ts TLVs) Uint8(tag Tag) (uint8, bool) {
	v, ok := ts.Get(tag)
	if !ok || len(v) != 1 {
		return 0, false
	}
	return v[0], true
}

// Uint16 returns a 2-octet integer TLV.
func (ts TLVs) Uint16(tag Tag) (uint16, bool) {
	v, ok := ts.Get(tag)
	if !ok || len(v) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(v), true
}

// Uint32 returns a 4-octet integer TLV.
func (ts TLVs) Uint32(tag Tag) (uint32, bool) {
	v, ok := ts.Get(tag)
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// String returns a C-octet string TLV without its NUL. A value that lacks the
// NUL (a sloppy peer) is returned whole.
func (ts TLVs) String(tag Tag) (string, bool) {
	v, ok := ts.Get(tag)
	if !ok {
		return "", false
	}
	if n := len(v); n > 0 && v[n-1] == 0 {
		v = v[:n-1]
	}
	return string(v), true
}

// Set replaces the value of the first TLV with the tag, or appends one.
func (ts *TLVs) Set(tag Tag, value []byte) {
	for i := range *ts {
		if (*ts)[i].Tag == tag {
			(*ts)[i].Value = value
			return
		}
	}
	*ts = append(*ts, TLV{tag, value})
}

// Add appends a TLV even if the tag is present (repeatable TLVs).
func (ts *TLVs) Add(tag Tag, value []byte) { *ts = append(*ts, TLV{tag, value}) }

// Delete removes every TLV with the tag.
func (ts *TLVs) Delete(tag Tag) {
	out := (*ts)[:0]
	for _, t := range *ts {
		if t.Tag != tag {
			out = append(out, t)
		}
	}
	*ts = out
}

// SetUint8 sets a 1-octet integer TLV.
func (ts *TLVs) SetUint8(tag Tag, v uint8) { ts.Set(tag, []byte{v}) }

// SetUint16 sets a 2-octet integer TLV.
func (ts *TLVs) SetUint16(tag Tag, v uint16) { ts.Set(tag, binary.BigEndian.AppendUint16(nil, v)) }

// SetUint32 sets a 4-octet integer TLV.
func (ts *TLVs) SetUint32(tag Tag, v uint32) { ts.Set(tag, binary.BigEndian.AppendUint32(nil, v)) }

// SetString sets a C-octet string TLV, adding the NUL.
func (ts *TLVs) SetString(tag Tag, s string) {
	v := make([]byte, len(s)+1)
	copy(v, s)
	ts.Set(tag, v)
}
