package main

import (
	"fmt"
	"os/exec"
	"strings"

	"github.com/sirupsen/logrus"
)

// lab is the set of namespace hosts of the [lab] table. up creates them,
// down removes them; both use iproute2's `ip` (and ethtool when present).
type lab struct {
	cfg *LabConfig
	log *logrus.Entry
	up  []LabHost // hosts created so far, for down
}

// runCmd runs a command and returns its combined output in the error.
func runCmd(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Up creates every host: a network namespace with lo and eth0 up and the
// configured address, wired by a veth pair to the switch-side interface
// named by port (in govsd's own namespace). Offloads that a raw-socket
// switch cannot carry (checksum and segmentation offload) are turned off
// on both ends when ethtool is installed.
func (l *lab) Up() error {
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("lab: the ip command (iproute2) is needed: %w", err)
	}
	_, ethErr := exec.LookPath("ethtool")
	if ethErr != nil {
		l.log.Warn("lab: ethtool not found: checksum offload stays on, TCP and UDP between lab hosts may fail (apt-get install ethtool)")
	}
	for _, h := range l.cfg.Host {
		// A namespace or interface left over by a run that was killed.
		if exec.Command("ip", "netns", "pids", h.Name).Run() == nil {
			l.log.WithField("host", h.Name).Warn("lab: removing a stale namespace")
			runCmd("ip", "netns", "del", h.Name)
		}
		runCmd("ip", "link", "del", h.Port)
		steps := [][]string{
			{"ip", "netns", "add", h.Name},
			{"ip", "link", "add", h.Port, "type", "veth", "peer", "name", "eth0", "netns", h.Name},
			{"ip", "-n", h.Name, "link", "set", "lo", "up"},
			{"ip", "-n", h.Name, "addr", "add", h.Address.String(), "dev", "eth0"},
		}
		if h.MAC != "" {
			steps = append(steps, []string{"ip", "-n", h.Name, "link", "set", "eth0", "address", string(h.MAC)})
		}
		steps = append(steps,
			[]string{"ip", "-n", h.Name, "link", "set", "eth0", "up"},
			[]string{"ip", "link", "set", h.Port, "up"},
		)
		if ethErr == nil {
			off := []string{"tx", "off", "sg", "off", "tso", "off", "gso", "off", "gro", "off", "rxvlan", "off", "txvlan", "off"}
			steps = append(steps,
				append([]string{"ip", "netns", "exec", h.Name, "ethtool", "-K", "eth0"}, off...),
				append([]string{"ethtool", "-K", h.Port}, off...),
			)
		}
		l.up = append(l.up, h)
		for _, s := range steps {
			if err := runCmd(s[0], s[1:]...); err != nil {
				return fmt.Errorf("lab host %s: %w", h.Name, err)
			}
		}
		l.log.WithFields(logrus.Fields{"host": h.Name, "address": h.Address.String(), "port": h.Port}).Info("lab host up")
	}
	return nil
}

// Down removes every host created by Up (deleting a namespace deletes its
// veth and so the switch-side end too).
func (l *lab) Down() {
	for _, h := range l.up {
		if err := runCmd("ip", "netns", "del", h.Name); err != nil {
			l.log.WithError(err).Warn("lab: removing host")
		}
		runCmd("ip", "link", "del", h.Port)
	}
	l.up = nil
}
