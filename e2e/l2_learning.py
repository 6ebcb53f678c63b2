"""An OpenFlow 1.3 L2-learning controller app for os-ken (the maintained Ryu).

os-ken ships no applications, so govs' end-to-end tests and README use this
one:

    /usr/bin/osken-manager --ofp-tcp-listen-port 6653 e2e/l2_learning.py

On connect it installs a table-miss entry that sends packets to the
controller. Each packet-in teaches it where the source address lives; a
packet to a known destination gets a flow (in_port, eth_src, eth_dst ->
output) and is sent on, other packets are flooded with a packet-out.
"""

from os_ken.base import app_manager
from os_ken.controller import ofp_event
from os_ken.controller.handler import CONFIG_DISPATCHER, MAIN_DISPATCHER, set_ev_cls
from os_ken.lib.packet import ethernet, packet
from os_ken.ofproto import ofproto_v1_3

# Flows installed for learned pairs carry this cookie, so tests can find them.
LEARNED_COOKIE = 0x4C32  # "L2"


class L2Learning(app_manager.OSKenApp):
    OFP_VERSIONS = [ofproto_v1_3.OFP_VERSION]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.where = {}  # datapath id -> {mac: port}

    @set_ev_cls(ofp_event.EventOFPSwitchFeatures, CONFIG_DISPATCHER)
    def on_features(self, ev):
        dp = ev.msg.datapath
        parser, ofp = dp.ofproto_parser, dp.ofproto
        self.where.setdefault(dp.id, {})
        miss = parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER)
        self._add_flow(dp, 0, parser.OFPMatch(), [miss], cookie=0)
        self.logger.info("switch %016x connected: table-miss entry installed", dp.id)

    def _add_flow(self, dp, priority, match, actions, cookie):
        parser, ofp = dp.ofproto_parser, dp.ofproto
        inst = [parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(datapath=dp, cookie=cookie, priority=priority,
                                      match=match, instructions=inst))

    @set_ev_cls(ofp_event.EventOFPPacketIn, MAIN_DISPATCHER)
    def on_packet_in(self, ev):
        msg = ev.msg
        dp = msg.datapath
        parser, ofp = dp.ofproto_parser, dp.ofproto
        in_port = msg.match["in_port"]
        eth = packet.Packet(msg.data).get_protocol(ethernet.ethernet)
        if eth is None:
            return
        table = self.where.setdefault(dp.id, {})
        table[eth.src] = in_port
        out_port = table.get(eth.dst, ofp.OFPP_FLOOD)
        actions = [parser.OFPActionOutput(out_port)]
        if out_port != ofp.OFPP_FLOOD:
            match = parser.OFPMatch(in_port=in_port, eth_src=eth.src, eth_dst=eth.dst)
            self._add_flow(dp, 10, match, actions, cookie=LEARNED_COOKIE)
            self.logger.info("learned %s -> %s: port %s -> %s", eth.src, eth.dst, in_port, out_port)
        dp.send_msg(parser.OFPPacketOut(datapath=dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port,
                                        actions=actions, data=msg.data))
