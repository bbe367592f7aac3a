package plugin

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/marketplace-rewards/rewards-operator/api/v1alpha1"
)

// The CSV columns of import sales, as the header names them (in any order,
// case-insensitive). The first five are required.
var (
	requiredColumns = []string{columnOffer, "transactionId", "amount", "currency", "billedAt"}
	optionalColumns = []string{"seats", "fraud", "cancellationReason", "cancellationTime"}
)

// The API's own patterns (api/v1alpha1: Money, CurrencyCode), checked here
// so that a bad row is refused with its line number before any request.
var (
	moneyPattern    = regexp.MustCompile(`^(0|[1-9][0-9]{0,19})(\.[0-9]{1,6})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// salesRow is one row of the CSV, turned into a SalesRecord's name and spec.
type salesRow struct {
	// line is the row's line number in the file (the header is line 1).
	line int
	name string
	spec v1alpha1.SalesRecordSpec
	// stated are the optional fields the row gives a value for (a column
	// the file has, a cell that is not empty): the only ones it may set.
	stated optionalFields
}

// optionalFields says, for each optional field of a SalesRecord, whether
// something holds it: a row stating it, or the import owning it.
type optionalFields struct {
	seats, fraud, cancellationReason, cancellationTime bool
}

// lineNote is what happened to a line of the file: why it was refused, or
// what it changed.
type lineNote struct {
	line int
	// transactionID, when the row has one.
	transactionID string
	reason        string
}

func (r lineNote) String() string {
	if r.transactionID != "" {
		return fmt.Sprintf("line %d (transaction %s): %s", r.line, r.transactionID, r.reason)
	}
	return fmt.Sprintf("line %d: %s", r.line, r.reason)
}

// parseSalesCSV reads the whole CSV: the rows that make valid SalesRecord
// specs, and the rows refused with their line numbers. An error means the
// file as a whole cannot be read (no header, an unknown column).
func parseSalesCSV(r io.Reader) ([]salesRow, []lineNote, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to refuse the row rather than stop
	cr.TrimLeadingSpace = true
	header, col, err := readHeader(cr)
	if err != nil {
		return nil, nil, err
	}

	var rows []salesRow
	var refused []lineNote
	seen := seenRows{tx: map[string]int{}, name: map[string]int{}}
	for {
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				refused = append(refused, lineNote{line: pe.StartLine, reason: "not valid CSV: " + pe.Err.Error()})
				continue
			}
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a blank line
		}
		if len(fields) != len(header) {
			refused = append(refused, lineNote{line: line, reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(header))})
			continue
		}
		if r, bad := invalidUTF8(cr, header, fields); bad {
			refused = append(refused, r)
			continue
		}
		get := func(c string) string {
			if i, ok := col[c]; ok {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		row, reason := rowSpec(get)
		if reason != "" {
			refused = append(refused, lineNote{line: line, transactionID: get("transactionId"), reason: reason})
			continue
		}
		row.line = line
		row.name = SalesRecordName(row.spec.TransactionID)
		if reason := seen.add(row); reason != "" {
			refused = append(refused, lineNote{line: line, transactionID: row.spec.TransactionID, reason: reason})
			continue
		}
		rows = append(rows, row)
	}
	return rows, refused, nil
}

// readHeader reads the header line: its columns, and the index of each
// known column.
func readHeader(cr *csv.Reader) ([]string, map[string]int, error) {
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, errors.New("the file is empty: it needs a header line naming the columns " + strings.Join(requiredColumns, ", "))
		}
		return nil, nil, fmt.Errorf("header: %w", err)
	}
	for _, h := range header {
		if !utf8.ValidString(h) {
			return nil, nil, fmt.Errorf("header (line 1): %s", notUTF8(h))
		}
	}
	col, err := columnIndexes(header)
	return header, col, err
}

// seenRows are the lines of the transaction ids and record names read so
// far: a file holds each once.
type seenRows struct{ tx, name map[string]int }

// add records row, or says why it repeats an earlier line.
func (s seenRows) add(row salesRow) string {
	if first, dup := s.tx[row.spec.TransactionID]; dup {
		return fmt.Sprintf("the same transaction id is on line %d", first)
	}
	if first, dup := s.name[row.name]; dup {
		return fmt.Sprintf("its SalesRecord name %q is that of line %d", row.name, first)
	}
	s.tx[row.spec.TransactionID], s.name[row.name] = row.line, row.line
	return ""
}

// invalidUTF8 refuses a row with a field that is not valid UTF-8, naming
// the line and the column: the bytes would otherwise be stored mangled
// (the API server replaces them), and a transaction id changed that way
// no longer matches the billing system's.
func invalidUTF8(cr *csv.Reader, header, fields []string) (lineNote, bool) {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			line, _ := cr.FieldPos(i)
			return lineNote{line: line, reason: fmt.Sprintf("column %s: %s", strings.TrimSpace(header[i]), notUTF8(f))}, true
		}
	}
	return lineNote{}, false
}

// notUTF8 says where s stops being UTF-8, and what to do.
func notUTF8(s string) string {
	at := 0
	for at < len(s) {
		r, size := utf8.DecodeRuneInString(s[at:])
		if r == utf8.RuneError && size <= 1 {
			break
		}
		at += size
	}
	return fmt.Sprintf("%s is not valid UTF-8 (byte 0x%02X at byte %d); export the file as UTF-8", strconv.Quote(s), s[at], at+1)
}

// columnIndexes maps each known column to its index in the header.
func columnIndexes(header []string) (map[string]int, error) {
	known := map[string]string{}
	for _, c := range append(append([]string(nil), requiredColumns...), optionalColumns...) {
		known[strings.ToLower(c)] = c
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a UTF-8 byte order mark
		c, ok := known[strings.ToLower(h)]
		if !ok {
			return nil, fmt.Errorf("header: unknown column %q; the columns are %s (required) and %s",
				h, strings.Join(requiredColumns, ", "), strings.Join(optionalColumns, ", "))
		}
		if _, dup := col[c]; dup {
			return nil, fmt.Errorf("header: column %q appears twice", h)
		}
		col[c] = i
	}
	for _, c := range requiredColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("header: the required column %q is missing", c)
		}
	}
	return col, nil
}

// rowSpec checks a row's fields as the API would and builds the spec; a
// non-empty reason names the field and what is wrong.
func rowSpec(get func(string) string) (salesRow, string) {
	var row salesRow
	s := &row.spec
	s.OfferRef.Name = get(columnOffer)
	s.TransactionID = get("transactionId")
	s.Amount = v1alpha1.Money(get("amount"))
	s.Currency = v1alpha1.CurrencyCode(get("currency"))
	if reason := textFieldsReason(s); reason != "" {
		return row, reason
	}
	billedAt, err := parseInstant(get("billedAt"))
	if err != nil {
		return row, "billedAt: " + err.Error()
	}
	s.BilledAt = billedAt
	if v := get("seats"); v != "" {
		row.stated.seats = true
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return row, fmt.Sprintf("seats %q is not a whole number of seats, 0 or more", v)
		}
		s.Seats = n
	}
	switch v := v1alpha1.FraudState(get("fraud")); v {
	case "", v1alpha1.FraudNone, v1alpha1.FraudSuspected, v1alpha1.FraudProven:
		s.Fraud, row.stated.fraud = v, v != ""
	default:
		return row, fmt.Sprintf("fraud %q is not one of None, Suspected, Proven (or empty)", v)
	}
	cancellation, reason := cancellationOf(v1alpha1.CancellationReason(get("cancellationReason")), get("cancellationTime"))
	if reason != "" {
		return row, reason
	}
	s.Cancellation = cancellation
	row.stated.cancellationReason = cancellation != nil
	row.stated.cancellationTime = cancellation != nil && cancellation.Time != nil
	return row, ""
}

// textFieldsReason checks the text fields of s (offer, transaction id,
// amount, currency) by the patterns and bounds of the SalesRecord schema,
// so that a row the API server would refuse is refused before any write; a
// non-empty reason names the first field that is wrong and how.
func textFieldsReason(s *v1alpha1.SalesRecordSpec) string {
	switch {
	case s.OfferRef.Name == "":
		return "offer is empty"
	case len(validation.IsDNS1123Subdomain(s.OfferRef.Name)) > 0:
		return fmt.Sprintf("offer %q is not an Offer name (lower case letters, digits, '-' and '.')", s.OfferRef.Name)
	case s.TransactionID == "":
		return "transactionId is empty"
	case len(s.TransactionID) > 128:
		return "transactionId is longer than 128 characters"
	case !moneyPattern.MatchString(string(s.Amount)):
		return fmt.Sprintf("amount %q is not a decimal amount like 1234.56 (digits, no sign, no thousands separator, at most 6 decimals)", s.Amount)
	case !currencyPattern.MatchString(string(s.Currency)):
		return fmt.Sprintf("currency %q is not a three-letter ISO 4217 code in upper case, like USD", s.Currency)
	}
	return ""
}

// cancellationOf builds a row's cancellation from its cancellationReason and
// cancellationTime columns (nil when the row is not cancelled); a non-empty
// reason says what is wrong with them. The two columns are one field of the
// spec: a time without a reason has nowhere to go, and is refused.
func cancellationOf(reason v1alpha1.CancellationReason, at string) (*v1alpha1.Cancellation, string) {
	switch reason {
	case "":
		if at != "" {
			return nil, "cancellationTime is set without a cancellationReason"
		}
		return nil, ""
	case v1alpha1.CancellationAccidentalPurchase, v1alpha1.CancellationBeforeUse:
		c := &v1alpha1.Cancellation{Reason: reason}
		if at != "" {
			t, err := parseInstant(at)
			if err != nil {
				return nil, "cancellationTime: " + err.Error()
			}
			c.Time = &t
		}
		return c, ""
	default:
		return nil, fmt.Sprintf("cancellationReason %q is not one of AccidentalPurchase, CancelledBeforeUse (or empty)", reason)
	}
}

// parseInstant parses an RFC 3339 instant, kept to the second as the API
// keeps it.
func parseInstant(v string) (metav1.Time, error) {
	if v == "" {
		return metav1.Time{}, errors.New("is empty; give an RFC 3339 instant like 2026-01-31T00:00:00Z")
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return metav1.Time{}, fmt.Errorf("%q is not an RFC 3339 instant like 2026-01-31T00:00:00Z", v)
	}
	return metav1.NewTime(t.UTC().Truncate(time.Second)), nil
}

// SalesRecordName is the SalesRecord name of a transaction id: the id
// itself when it is a valid name (lower case letters, digits, '-', '.'),
// otherwise the id in lower case with every other character turned into
// '-', followed by ten hex digits of its SHA-256. The same id always gives
// the same name, which is what makes a re-import idempotent, and ids that
// differ only in what the name cannot hold (case, punctuation) get
// different names.
func SalesRecordName(transactionID string) string {
	if len(validation.IsDNS1123Subdomain(transactionID)) == 0 {
		return transactionID
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(transactionID) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	sum := sha256.Sum256([]byte(transactionID))
	suffix := hex.EncodeToString(sum[:5])
	prefix := strings.TrimRight(b.String(), "-")
	if max := validation.DNS1123SubdomainMaxLength - len(suffix) - 1; len(prefix) > max {
		prefix = strings.TrimRight(prefix[:max], "-")
	}
	if prefix == "" {
		return "tx-" + suffix
	}
	return prefix + "-" + suffix
}
