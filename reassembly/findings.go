package reassembly

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Security findings of a handshake (RFC 6455 §10, cross-site WebSocket
// hijacking). Findings computes them from one Handshake alone; the
// Assembler adds them to the connection's anomalies once per handshake,
// when it reports it (a 101, a refusal, a failure, or the end of the
// connection without an answer), before Handler.Handshake.
// Reuse of a key across connections needs the whole capture: see KeySet.
//
// No finding ever carries a secret: cookies are named, never valued;
// Authorization is described by its scheme only (and only a scheme from a
// known list, since a header without one may be the bare secret); query
// parameters are named, never valued, and a parameter without a name is
// never shown.
//
// The capture shows these bytes unencrypted, so the connection was ws:// (or
// plain HTTP behind a TLS-terminating proxy): the findings say what was
// readable on the captured link and no more.
const (
	// cswsh-cross-origin (high): a 101 to a request carrying ambient
	// credentials (Cookie, Authorization) whose Origin is not the Host: a
	// page of another site can open this WebSocket with the user's
	// credentials (cross-site WebSocket hijacking).
	CodeCSWSHCrossOrigin = "cswsh-cross-origin"
	// cswsh-no-origin (medium): a 101 to a request carrying ambient
	// credentials without Origin. Browsers always send Origin, so the client
	// is not one, but a server accepting credentialed handshakes without
	// Origin may not check it at all.
	CodeCSWSHNoOrigin = "cswsh-no-origin"
	// cswsh-cross-origin-token (low): a 101 to a cross-origin request whose
	// only credential is a token in the query: not ambient (a foreign page
	// would need the token), but the server does not enforce Origin.
	CodeCSWSHCrossOriginToken = "cswsh-cross-origin-token"
	// cleartext-authorization (high): Authorization or
	// Proxy-Authorization readable on the wire (scheme named).
	CodeCleartextAuth = "cleartext-authorization"
	// cleartext-cookie (medium): Cookie (client) or Set-Cookie (server)
	// readable on the wire (names only).
	CodeCleartextCookie = "cleartext-cookie"
	// cleartext-query-token (medium): token-like query parameters in the
	// request URI readable on the wire (names only).
	CodeCleartextQueryToken = "cleartext-query-token"
	// cleartext-subprotocol-token (medium): a Sec-WebSocket-Protocol value
	// offered by the client carries a bearer token (a JWT, or Kubernetes'
	// base64url.bearer.authorization.k8s.io.<token>), a common way around
	// browsers' inability to set Authorization on a WebSocket; never shown.
	CodeCleartextSubprotocolToken = "cleartext-subprotocol-token"
	// handshake-key-reused (low): the Sec-WebSocket-Key is not a fresh
	// nonce: another connection of the capture used it (KeySet), or it is
	// RFC 6455's sample nonce. A proxy in the capture forwarding a
	// handshake repeats its client's key: check the addresses.
	CodeKeyReused = "handshake-key-reused"
)

// SampleKey is the example Sec-WebSocket-Key of RFC 6455 §1.3 ("the sample
// nonce"), found hard-coded in clients and test tools.
const SampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// Limits on what a finding's detail lists.
const (
	maxFindingNames = 12 // names listed per finding ("… and N more")
	maxNameLen      = 40 // bytes of one listed name
	maxShownLen     = 120
)

// Findings returns the security findings of hs (see the codes above), in a
// fixed order. It is called once per handshake, when its outcome is known;
// the result is newly allocated.
func Findings(hs *Handshake) []Anomaly {
	return appendFindings(nil, hs)
}

// findings adds u's security findings to its pending anomalies; report
// calls it once per handshake, before Handler.Handshake.
func (a *Assembler) findings(u *upgrade) {
	u.anoms = appendFindings(u.anoms, &u.hs)
}

func appendFindings(dst []Anomaly, hs *Handshake) []Anomaly {
	haveReq := hs.Method != "" || len(hs.RequestHeaders) > 0
	if !haveReq {
		return dst
	}
	req := hs.RequestAt
	cl := func(code, sev, detail string) {
		dst = append(dst, Anomaly{Code: code, Severity: sev, Detail: detail, Dir: FromClient, At: req})
	}
	const where = " readable on the captured link (not TLS: ws:// or plain HTTP)"

	// Cleartext credentials.
	var auth []string
	ambientAuth := false // Authorization (a browser sends cached HTTP credentials on its own); not Proxy-Authorization
	for _, h := range hs.RequestHeaders {
		if strings.EqualFold(h.Name, "Authorization") || strings.EqualFold(h.Name, "Proxy-Authorization") {
			auth = append(auth, canonicalHeader(h.Name)+": "+authScheme(h.Value))
			ambientAuth = ambientAuth || strings.EqualFold(h.Name, "Authorization")
		}
	}
	if len(auth) > 0 {
		cl(CodeCleartextAuth, "error", joinNames(auth)+where+"; credentials not shown")
	}
	cookies := cookieNames(lookupAll(hs.RequestHeaders, "Cookie"), false)
	if len(cookies) > 0 {
		cl(CodeCleartextCookie, "warning", "Cookie "+joinNames(cookies)+where+"; values not shown")
	}
	if hs.Status != 0 {
		if set := cookieNames(lookupAll(hs.ResponseHeaders, "Set-Cookie"), true); len(set) > 0 {
			dst = append(dst, Anomaly{Code: CodeCleartextCookie, Severity: "warning", Dir: FromServer, At: hs.ResponseAt,
				Detail: "Set-Cookie " + joinNames(set) + where + "; values not shown"})
		}
	}
	if n := subprotocolTokens(hs.Protocols); n != "" {
		cl(CodeCleartextSubprotocolToken, "warning", "Sec-WebSocket-Protocol offers "+n+where+"; value not shown")
	}
	tokens := queryTokens(hs.URI)
	if len(tokens) > 0 {
		cl(CodeCleartextQueryToken, "warning", "token-like query parameter "+joinNames(tokens)+" in the request URI"+where+"; values not shown")
	}

	// Cross-site WebSocket hijacking: only an accepted upgrade matters.
	if hs.Upgraded && hs.Status == 101 {
		var ambient []string
		if ambientAuth {
			ambient = append(ambient, "Authorization")
		}
		if len(cookies) > 0 {
			ambient = append(ambient, "Cookie")
		}
		origin := strings.TrimSpace(hs.Origin)
		both := func(code, sev, detail string) {
			dst = append(dst, Anomaly{Code: code, Severity: sev, Detail: detail, Both: true, At: hs.ResponseAt})
		}
		switch {
		case origin == "" && len(ambient) > 0 && !hs.RequestCut:
			both(CodeCSWSHNoOrigin, "warning", "server accepted (101) a handshake carrying "+strings.Join(ambient, " and ")+
				" without an Origin header: the client is not a browser (browsers always send Origin), but a server that accepts credentialed handshakes without Origin may not check Origin at all (cross-site WebSocket hijacking)")
		case origin != "":
			same, why := originMatchesHost(origin, hs.Host)
			if same {
				break
			}
			switch {
			case len(ambient) > 0:
				both(CodeCSWSHCrossOrigin, "error", "server accepted (101) a cross-origin handshake carrying "+strings.Join(ambient, " and ")+
					": "+why+"; a page on another site can open this WebSocket with the user's credentials (cross-site WebSocket hijacking)")
			case len(tokens) > 0:
				both(CodeCSWSHCrossOriginToken, "info", "server accepted (101) a cross-origin handshake whose only credential is a query token: "+why+
					"; the token is not sent by the browser on its own, but the server does not enforce Origin")
			}
		}
	}

	// A key that is not a fresh nonce (a bad key is handshake-bad-key).
	if strings.TrimSpace(hs.Key) == SampleKey {
		cl(CodeKeyReused, "info", "Sec-WebSocket-Key is the sample nonce of RFC 6455 §1.3: a hard-coded key, not a fresh random one (RFC 6455 §4.1)")
	}
	return dst
}

// canonicalHeader spells the two credential headers canonically (the names
// as sent may be any case).
func canonicalHeader(name string) string {
	if strings.EqualFold(name, "Proxy-Authorization") {
		return "Proxy-Authorization"
	}
	return "Authorization"
}

// authSchemes are the HTTP authentication schemes named in findings
// (IANA registry and common non-registered ones), canonically spelled.
var authSchemes = []string{"Basic", "Bearer", "Digest", "DPoP", "HOBA", "Mutual", "Negotiate", "NTLM", "OAuth",
	"PrivateToken", "SCRAM-SHA-1", "SCRAM-SHA-256", "vapid", "AWS4-HMAC-SHA256", "Token", "ApiKey", "JWT", "Kerberos"}

// authScheme names the scheme of an Authorization value without revealing
// any of the credentials: only a scheme from authSchemes followed by a space
// is named; anything else may itself be the secret.
func authScheme(v string) string {
	v = strings.TrimSpace(v)
	word, rest, found := strings.Cut(v, " ")
	if !found || strings.TrimSpace(rest) == "" {
		if v == "" {
			return "(empty)"
		}
		return "(no scheme: a bare credential)"
	}
	for _, s := range authSchemes {
		if strings.EqualFold(word, s) {
			if s == "Basic" {
				return "Basic (user name and password, base64-encoded)"
			}
			return s
		}
	}
	return "(unrecognised scheme)"
}

// cookieNames returns the distinct cookie names of Cookie header values, or
// of Set-Cookie values (one cookie each, attributes after ';'). A pair
// without '=' is a bare value (browsers take it for a nameless cookie) and
// is listed as "(unnamed)", never shown.
func cookieNames(vals []string, set bool) []string {
	if len(vals) == 0 {
		return nil
	}
	var ns nameSet
	add := ns.add
	for _, v := range vals {
		pairs := strings.Split(v, ";")
		if set {
			pairs = pairs[:1]
		}
		for _, p := range pairs {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			name, _, ok := strings.Cut(p, "=")
			name = strings.TrimSpace(name)
			if !ok || name == "" {
				add("(unnamed)")
				continue
			}
			add(shortName(name))
		}
	}
	return ns.names
}

// tokenExact and tokenParts say which query parameter names are token-like:
// an exact name (case-insensitive) or a name containing a part.
var (
	tokenExact = map[string]bool{"auth": true, "key": true, "sid": true, "pwd": true, "pass": true, "sig": true,
		"authorization": true, "ticket": true}
	tokenParts = []string{"token", "secret", "passw", "apikey", "api_key", "api-key", "session", "jwt",
		"credential", "signature", "access_key", "accesskey", "auth_", "_auth", "-auth", "auth-", "_key", "-key"}
)

func tokenLike(name string) bool {
	n := strings.ToLower(name)
	if tokenExact[n] {
		return true
	}
	for _, p := range tokenParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// looksJWT reports whether v has the shape of a JSON Web Token: three
// base64url parts, the first starting with "eyJ" ('{"' encoded).
func looksJWT(v string) bool {
	if !strings.HasPrefix(v, "eyJ") || strings.Count(v, ".") != 2 || len(v) < 20 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '=') {
			return false
		}
	}
	return true
}

// queryTokens returns the names of token-like query parameters of uri
// (see tokenLike), and of parameters whose value looks like a JWT. A
// parameter without '=' is never named (it may be the secret itself); a
// JWT-shaped one is listed as "(unnamed JWT)".
func queryTokens(uri string) []string {
	_, q, ok := strings.Cut(uri, "?")
	if !ok {
		return nil
	}
	q, _, _ = strings.Cut(q, "#")
	var ns nameSet
	add := ns.add
	for _, p := range strings.FieldsFunc(q, func(r rune) bool { return r == '&' || r == ';' }) {
		rawName, rawVal, hasEq := strings.Cut(p, "=")
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			val = rawVal
		}
		if !hasEq {
			if un, err := url.QueryUnescape(rawName); err == nil && looksJWT(un) || looksJWT(rawName) {
				add("(unnamed JWT)")
			}
			continue
		}
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		if name == "" {
			if looksJWT(val) {
				add("(unnamed JWT)")
			}
			continue
		}
		if tokenLike(name) || looksJWT(val) {
			add(shortName(name))
		}
	}
	return ns.names
}

// k8sBearerPrefix starts the subprotocol Kubernetes clients use to carry a
// bearer token ("base64url.bearer.authorization.k8s.io." + base64url token).
const k8sBearerPrefix = "base64url.bearer.authorization.k8s.io."

// subprotocolTokens describes the credentials among the offered
// subprotocols ("" if none): a Kubernetes bearer token or a JWT-shaped
// value. The values are never returned.
func subprotocolTokens(protos []string) string {
	var kinds []string
	for _, p := range protos {
		switch {
		case len(p) > len(k8sBearerPrefix) && strings.EqualFold(p[:len(k8sBearerPrefix)], k8sBearerPrefix):
			kinds = append(kinds, "a Kubernetes bearer token (base64url.bearer.authorization.k8s.io.…)")
		case looksJWT(p):
			kinds = append(kinds, "a JWT-shaped value")
		}
	}
	return joinNames(kinds)
}

// shortName bounds a name shown in a detail.
func shortName(s string) string {
	if len(s) <= maxNameLen {
		return s
	}
	i := maxNameLen
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// nameSet collects distinct names in the order first added.
type nameSet struct {
	names []string
	seen  map[string]bool
}

func (s *nameSet) add(n string) {
	if s.seen[n] {
		return
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[n] = true
	s.names = append(s.names, n)
}

// joinNames lists names, at most maxFindingNames of them.
func joinNames(names []string) string {
	if len(names) <= maxFindingNames {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxFindingNames], ", ") + " and " + strconv.Itoa(len(names)-maxFindingNames) + " more"
}

// shown quotes a header value for a detail, bounded.
func shown(s string) string {
	if len(s) > maxShownLen {
		s = shortName(s[:maxShownLen])
	}
	return strconv.Quote(s)
}

// originMatchesHost reports whether an Origin header value (RFC 6454:
// "scheme://host[:port]", or "null") names the host of a Host header value
// ("host[:port]"). Host names compare case-insensitively, without a
// trailing dot, IP addresses in canonical form (IPv6 with or without
// brackets, IPv4-mapped IPv6 as IPv4). Ports compare after defaults: the
// Origin's port is its own or its scheme's (http/ws 80, https/wss 443); a
// Host without a port matches an Origin on 80 or 443, and 80 and 443 match
// each other, since a TLS-terminating proxy in front of a captured ws://
// hop turns https://host into Host: host (any other port must be equal).
// When they differ, why says how, for a finding's detail.
func originMatchesHost(origin, host string) (same bool, why string) {
	origin = strings.TrimSpace(origin)
	mismatch := func() string { return "Origin " + shown(origin) + " is not the Host " + shown(host) }
	if strings.EqualFold(origin, "null") {
		return false, "Origin is \"null\" (an opaque origin: sandboxed frame, file, data URL)"
	}
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || scheme == "" {
		return false, "Origin " + shown(origin) + " is not a scheme://host origin"
	}
	rest, _, _ = strings.Cut(rest, "/")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	oh, op, ok := splitHostPort(rest)
	if !ok {
		return false, "Origin " + shown(origin) + " is not a scheme://host origin"
	}
	if strings.TrimSpace(host) == "" {
		return false, "Origin " + shown(origin) + " and no Host header"
	}
	hh, hp, ok := splitHostPort(host)
	if !ok {
		return false, mismatch() + " (Host unparseable)"
	}
	if oh != hh {
		return false, mismatch()
	}
	if op == "" {
		switch strings.ToLower(scheme) {
		case "http", "ws":
			op = "80"
		case "https", "wss":
			op = "443"
		}
	}
	def := func(p string) bool { return p == "" || p == "80" || p == "443" }
	if op == hp || def(op) && def(hp) {
		return true, ""
	}
	return false, mismatch() + " (port differs)"
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port" (and a
// bare IPv6 address) and normalises the host (lower case, no trailing dot,
// canonical IP) and the port (decimal without leading zeros).
func splitHostPort(s string) (host, port string, ok bool) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "", false
	case s[0] == '[':
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return "", "", false
		}
		host, s = s[1:i], s[i+1:]
		if s != "" {
			if s[0] != ':' {
				return "", "", false
			}
			port = s[1:]
			if port == "" {
				return "", "", false
			}
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return "", "", false
		}
	default:
		host = s // no port, or a bare IPv6 address
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return "", "", false
		}
		port = strconv.FormatUint(n, 10)
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return "", "", false
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().WithZone("").String()
	}
	return host, port, true
}
