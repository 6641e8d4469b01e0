package gatewaystore

import (
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// toBSON turns a gateway document (normal forms: string, bool, float64,
// int64, time.Time, maps of those) into a BSON document with sorted keys,
// "_id" first.
func toBSON(m map[string]any) bson.D {
	keys := slices.Sorted(maps.Keys(m))
	d := make(bson.D, 0, len(keys))
	if id, ok := m["_id"]; ok {
		d = append(d, bson.E{Key: "_id", Value: id})
	}
	for _, k := range keys {
		if k == "_id" {
			continue
		}
		v := m[k]
		switch x := v.(type) {
		case map[string]any:
			v = toBSON(x)
		case time.Time:
			v = bson.NewDateTimeFromTime(x)
		}
		d = append(d, bson.E{Key: k, Value: v})
	}
	return d
}

// fromRaw reads a BSON document into a map: strings, booleans, int32,
// int64, float64, time.Time, nil, maps and slices. Other BSON types are
// kept as bson.RawValue, which the gateway's rules refuse.
func fromRaw(raw bson.Raw) (map[string]any, error) {
	els, err := raw.Elements()
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(els))
	for _, e := range els {
		v, err := fromValue(e.Value())
		if err != nil {
			return nil, err
		}
		m[e.Key()] = v
	}
	return m, nil
}

func fromValue(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeString:
		return v.StringValue(), nil
	case bson.TypeBoolean:
		return v.Boolean(), nil
	case bson.TypeInt32:
		return v.Int32(), nil
	case bson.TypeInt64:
		return v.Int64(), nil
	case bson.TypeDouble:
		return v.Double(), nil
	case bson.TypeDateTime:
		return time.UnixMilli(v.DateTime()).UTC(), nil
	case bson.TypeNull:
		return nil, nil
	case bson.TypeEmbeddedDocument:
		return fromRaw(v.Document())
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, x := range vals {
			if out[i], err = fromValue(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return v, nil
}

func without(m map[string]any, keys ...string) map[string]any {
	c := maps.Clone(m)
	for _, k := range keys {
		delete(c, k)
	}
	return c
}
