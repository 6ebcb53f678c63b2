package ofproto

import "github.com/govs/govs/ofproto/ofp"

// bundle is an open ONF bundle of a connection (not supported yet).
type bundle struct{}

// bundleCtrl handles an ONF BUNDLE_CONTROL message.
func (c *conn) bundleCtrl(h ofp.Header, m *ofp.BundleCtrl) error {
	return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadExperimenter, "bundles are not supported yet")
}

// bundleAdd handles an ONF BUNDLE_ADD message (raw is the whole message).
func (c *conn) bundleAdd(h ofp.Header, m *ofp.BundleAdd, raw []byte) error {
	return ofp.Errorf(ofp.ETBadRequest, ofp.BRCBadExperimenter, "bundles are not supported yet")
}
