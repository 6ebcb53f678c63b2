package ofproto

import "github.com/govs/govs/ofproto/ofp"

// meter is an OpenFlow meter. Meters are not implemented yet: every
// METER_MOD is refused, so no flow can refer to a meter.
type meter struct{}

// meterMod applies a METER_MOD.
func (br *Bridge) meterMod(m *ofp.MeterMod) error {
	return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadType, "meters are not supported yet")
}

// meterStats answers a meter stats request (OFPM_ALL: every meter).
func (br *Bridge) meterStats(id uint32) ([]ofp.MeterStats, error) { return nil, nil }

// meterConfigs answers a meter config request (OFPM_ALL: every meter).
func (br *Bridge) meterConfigs(id uint32) ([]ofp.MeterConfig, error) { return nil, nil }

// meterFeatures answers a meter features request.
func meterFeatures() *ofp.MeterFeaturesReply { return &ofp.MeterFeaturesReply{} }
