package ofproto

import "github.com/govs/govs/ofproto/ofp"

// group is an OpenFlow group. The group table is not implemented yet: every
// GROUP_MOD is refused, so no flow can refer to a group.
type group struct{}

// groupMod applies a GROUP_MOD.
func (br *Bridge) groupMod(m *ofp.GroupMod) error {
	return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadType, "groups are not supported yet")
}

// xlateGroup translates a group action. Validation refuses actions naming
// a group that does not exist, so there is nothing to do yet.
func (br *Bridge) xlateGroup(x *xlate, id uint32) {
	x.tracef("group:%d does not exist: drop", id)
}

// groupStats answers a group stats request (OFPG_ALL: every group).
func (br *Bridge) groupStats(id uint32) ([]ofp.GroupStats, error) { return nil, nil }

// groupDescs answers a group description request.
func (br *Bridge) groupDescs() []ofp.GroupDesc { return nil }

// groupFeatures answers a group features request.
func groupFeatures() *ofp.GroupFeaturesReply { return &ofp.GroupFeaturesReply{} }
