package webui

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// IsLoopback reports whether a listen host (as given to --host) reaches only
// this machine: "localhost", or an address in 127.0.0.0/8 or ::1. An empty
// host or an unspecified address (0.0.0.0, ::) listens on every network.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// OpenURLs lists the page's URLs a person can open for a server listening on
// host:port. For an unspecified host (empty, 0.0.0.0 or ::) it lists one URL
// per address of this machine's interfaces that other machines can reach
// (IPv4 first, then global IPv6; loopback and link-local left out), and
// falls back to http://localhost:port/ when the machine has none. addrs
// supplies those addresses (net.InterfaceAddrs in the server).
func OpenURLs(host string, port int, addrs func() ([]net.Addr, error)) []string {
	p := strconv.Itoa(port)
	if h := strings.Trim(host, "[]"); h != "" && h != "0.0.0.0" && h != "::" {
		return []string{"http://" + net.JoinHostPort(h, p) + "/"}
	}
	var v4, v6 []string
	if list, err := addrs(); err == nil {
		for _, a := range list {
			prefix, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := prefix.Addr()
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
				continue
			}
			u := "http://" + net.JoinHostPort(ip.String(), p) + "/"
			if ip.Is4() {
				v4 = append(v4, u)
			} else { // Go listens on both families for any wildcard host
				v6 = append(v6, u)
			}
		}
	}
	urls := append(v4, v6...)
	if len(urls) == 0 {
		urls = []string{"http://" + net.JoinHostPort("localhost", p) + "/"}
	}
	return urls
}
