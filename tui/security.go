package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gdamore/tcell/v2"

	"github.com/wsscope/wsscope/pipeline"
	"github.com/wsscope/wsscope/reassembly"
)

// Security findings in the TUI (issue 7): the connections pane marks a
// connection with its highest risk when medium or high ("SEC high" / "SEC
// med" in the Anom column, row in magenta / yellow), and the connection's
// detail lists all its findings, highest risk first, with their severity.
//
// A connection's findings are the security anomalies the model kept for it
// (pipeline.SecurityRisk of the code: handshake findings, masking keys, key
// reuse, bad key, wrong Accept) plus the handshake's own findings recomputed
// from its copy (reassembly.Findings), so that they show even when the
// connection's anomaly list was capped or was not read (the connections
// pane reads a connection's anomalies only when it has some and its
// handshake alone is not already high risk). Nothing is stored: this is
// computed when a row (cached per model version) or the detail is built.

// secFinding is one security finding as shown.
type secFinding struct {
	code, detail, severity, risk, from string
	pkt                                uint64
}

// connFindings returns c's security findings, highest risk first (ties in
// the order found), without duplicates (same code and detail).
func connFindings(c *connView) []secFinding {
	var fs []secFinding
	seen := map[[2]string]bool{}
	add := func(f secFinding) {
		k := [2]string{f.code, f.detail}
		if !seen[k] {
			seen[k] = true
			fs = append(fs, f)
		}
	}
	for _, a := range c.anoms {
		if r := pipeline.SecurityRisk(a.code); r != "" {
			add(secFinding{code: a.code, detail: a.detail, severity: a.severity, risk: r, from: a.from, pkt: a.pkt})
		}
	}
	if c.hs != nil {
		for _, a := range reassembly.Findings(c.hs) {
			from := "client"
			if a.Both {
				from = ""
			} else if a.Dir == reassembly.FromServer {
				from = "server"
			}
			add(secFinding{code: a.Code, detail: a.Detail, severity: a.Severity, risk: pipeline.SecurityRisk(a.Code), from: from, pkt: a.At.Packet})
		}
	}
	slices.SortStableFunc(fs, func(a, b secFinding) int { return pipeline.RiskRank(b.risk) - pipeline.RiskRank(a.risk) })
	return fs
}

// topRisk returns the highest risk of fs, or "".
func topRisk(fs []secFinding) string {
	if len(fs) == 0 {
		return ""
	}
	return fs[0].risk
}

// securityColor is the row colour of a connection whose highest risk is
// risk (ok false: no security finding, keep the row's colour).
func securityColor(risk string) (c tcell.Color, ok bool) {
	switch risk {
	case pipeline.RiskHigh:
		return tcell.ColorFuchsia, true
	case pipeline.RiskMedium:
		return tcell.ColorYellow, true
	case pipeline.RiskLow:
		return tcell.ColorDefault, false
	}
	return tcell.ColorDefault, false
}

// securityMark is the connections pane's mark for the highest risk: "SEC
// high", "SEC med", or "" (low-risk findings are listed in the detail
// only, so that the pane stays narrow and the mark means something).
func securityMark(risk string) string {
	switch risk {
	case pipeline.RiskHigh:
		return "SEC high"
	case pipeline.RiskMedium:
		return "SEC med"
	}
	return ""
}

// riskTag colours a risk level in the detail pane.
func riskTag(risk string) string {
	switch risk {
	case pipeline.RiskHigh:
		return "[fuchsia::b]" + strings.ToUpper(risk) + "[-::-]"
	case pipeline.RiskMedium:
		return "[yellow::b]" + strings.ToUpper(risk) + "[-::-]"
	}
	return "[::b]" + strings.ToUpper(risk) + "[::-]"
}

// securityText renders c's security findings for the detail pane (tview
// tags; every string from the traffic escaped), or "" when it has none.
func securityText(c *connView) string {
	fs := connFindings(c)
	if len(fs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n[::u]Security findings (%d, highest risk %s)[::-]\n", len(fs), riskTag(fs[0].risk))
	for _, f := range fs {
		where := f.from
		if f.pkt != 0 {
			if where != "" {
				where += ", "
			}
			where += "packet " + strconv.FormatUint(f.pkt, 10)
		}
		if where != "" {
			where = " (" + where + ")"
		}
		fmt.Fprintf(&b, "%s %s %s%s: %s\n", riskTag(f.risk), safeString(f.severity), safeString(f.code), safeString(where), safeString(f.detail))
	}
	return b.String()
}

// markSecurity adds the security mark of connection c (a row of the
// connections pane) to its Anom column and colours the row by risk. The
// connection's anomalies are read only when it has some.
func (v *connsView) markSecurity(c *connView, texts *[ccCount]string, color *tcell.Color) {
	risk := topRisk(connFindings(c))
	if risk != pipeline.RiskHigh && c.anoms == nil && c.anomCount > 0 {
		// Findings reported as anomalies only (masking keys, key reuse)
		// may rank higher than the handshake's: read the anomalies.
		if ca, ok := v.u.m.conn(c.idx, true); ok {
			risk = topRisk(connFindings(&ca))
		}
	}
	if securityMark(risk) == "" {
		return
	}
	texts[ccAnom] += " " + securityMark(risk)
	if sc, ok := securityColor(risk); ok {
		*color = sc
	}
}
