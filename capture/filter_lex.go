package capture

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tEOF    tokKind = iota
	tWord           // identifiers, numbers, addresses, port ranges
	tLParen         // (
	tRParen         // )
	tLBrack         // [
	tRBrack         // ]
	tColon          // : inside brackets
	tNot            // !
	tAnd            // &&
	tOr             // ||
	tArith          // + - * / % & | ^ << >>
	tRel            // = == != < <= > >=
)

type token struct {
	kind tokKind
	s    string
	pos  int // 1-based byte position
}

func isWordByte(c byte, inBrackets bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == '_' || c == '.' || c == '-' || c == '\\':
		return true
	case c == ':':
		return !inBrackets
	}
	return false
}

func lex(expr string) ([]token, error) {
	var toks []token
	depth := 0
	for i := 0; i < len(expr); {
		c := expr[i]
		pos := i + 1
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '(':
			toks = append(toks, token{tLParen, "(", pos})
		case c == ')':
			toks = append(toks, token{tRParen, ")", pos})
		case c == '[':
			depth++
			toks = append(toks, token{tLBrack, "[", pos})
		case c == ']':
			if depth > 0 {
				depth--
			}
			toks = append(toks, token{tRBrack, "]", pos})
		case c == ':' && depth > 0:
			toks = append(toks, token{tColon, ":", pos})
		case c == '&' && strings.HasPrefix(expr[i:], "&&"):
			toks = append(toks, token{tAnd, "&&", pos})
			i += 2
			continue
		case c == '|' && strings.HasPrefix(expr[i:], "||"):
			toks = append(toks, token{tOr, "||", pos})
			i += 2
			continue
		case c == '!' && strings.HasPrefix(expr[i:], "!="):
			toks = append(toks, token{tRel, "!=", pos})
			i += 2
			continue
		case c == '!':
			toks = append(toks, token{tNot, "!", pos})
		case c == '<' || c == '>':
			two := ""
			if i+1 < len(expr) {
				two = expr[i : i+2]
			}
			switch two {
			case "<<", ">>":
				toks = append(toks, token{tArith, two, pos})
				i += 2
				continue
			case "<=", ">=":
				toks = append(toks, token{tRel, two, pos})
				i += 2
				continue
			}
			toks = append(toks, token{tRel, string(c), pos})
		case c == '=':
			if strings.HasPrefix(expr[i:], "==") {
				toks = append(toks, token{tRel, "==", pos})
				i += 2
				continue
			}
			toks = append(toks, token{tRel, "=", pos})
		case strings.IndexByte("+-*/%&|^", c) >= 0:
			toks = append(toks, token{tArith, string(c), pos})
		case isWordByte(c, depth > 0):
			j := i
			for j < len(expr) && isWordByte(expr[j], depth > 0) {
				j++
			}
			toks = append(toks, token{tWord, expr[i:j], pos})
			i = j
			continue
		default:
			return nil, fmt.Errorf("position %d: unexpected character %q", pos, c)
		}
		i++
	}
	toks = append(toks, token{tEOF, "", len(expr) + 1})
	return toks, nil
}
