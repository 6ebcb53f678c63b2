package ofproto

// group is an OpenFlow group. The group table is not implemented yet: no
// group can be added (GROUP_MOD is refused), so no flow can refer to one.
type group struct{}

// meter is an OpenFlow meter. Meters are not implemented yet: METER_MOD is
// refused, so no flow can refer to one.
type meter struct{}

// xlateGroup translates a group action. Without groups there is nothing
// to do: validation refuses actions naming a group that does not exist.
func (br *Bridge) xlateGroup(x *xlate, id uint32) {
	x.tracef("group:%d does not exist: drop", id)
}
