package compress

import (
	"math/rand/v2"
	"strconv"
)

// MovementMessages returns n synthetic movement messages, the traffic a
// realtime movement service sends each tick per player: ~300-byte JSON
// objects with player id, room, position, velocity, rotation, sequence,
// timestamp and state flags. The same seed gives the same messages; the
// shipped dictionary was trained on seed 1, tests and benchmarks measure
// on other seeds, so the ratios they report are not ratios of the
// training data.
func MovementMessages(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const players = 64
	rooms := []string{"arena-eu-01", "arena-eu-02", "arena-us-07", "lobby-ap-03", "raid-eu-11"}
	states := []string{"idle", "walk", "run", "jump", "crouch", "swim"}
	type player struct {
		id         string
		room       string
		x, y, z    float64
		seq        int64
		yaw, pitch float64
	}
	ps := make([]player, players)
	for i := range ps {
		ps[i] = player{
			id:   "p-" + strconv.FormatUint(rng.Uint64()>>16, 36),
			room: rooms[rng.IntN(len(rooms))],
			x:    rng.Float64()*2000 - 1000, y: rng.Float64() * 50, z: rng.Float64()*2000 - 1000,
			seq: int64(rng.IntN(100000)),
		}
	}
	ts := int64(1764325000000) + int64(rng.IntN(1000000))
	out := make([][]byte, n)
	for i := range out {
		p := &ps[rng.IntN(players)]
		vx, vy, vz := rng.Float64()*12-6, rng.Float64()*2-1, rng.Float64()*12-6
		p.x, p.y, p.z = p.x+vx/20, max(0, p.y+vy/20), p.z+vz/20
		p.yaw, p.pitch = rng.Float64()*360, rng.Float64()*60-30
		p.seq++
		ts += int64(rng.IntN(4))
		b := make([]byte, 0, 320)
		b = append(b, `{"type":"move","player_id":"`...)
		b = append(b, p.id...)
		b = append(b, `","room":"`...)
		b = append(b, p.room...)
		b = append(b, `","seq":`...)
		b = strconv.AppendInt(b, p.seq, 10)
		b = append(b, `,"ts":`...)
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, `,"pos":{"x":`...)
		b = strconv.AppendFloat(b, p.x, 'f', 3, 64)
		b = append(b, `,"y":`...)
		b = strconv.AppendFloat(b, p.y, 'f', 3, 64)
		b = append(b, `,"z":`...)
		b = strconv.AppendFloat(b, p.z, 'f', 3, 64)
		b = append(b, `},"vel":{"x":`...)
		b = strconv.AppendFloat(b, vx, 'f', 3, 64)
		b = append(b, `,"y":`...)
		b = strconv.AppendFloat(b, vy, 'f', 3, 64)
		b = append(b, `,"z":`...)
		b = strconv.AppendFloat(b, vz, 'f', 3, 64)
		b = append(b, `},"rot":{"yaw":`...)
		b = strconv.AppendFloat(b, p.yaw, 'f', 2, 64)
		b = append(b, `,"pitch":`...)
		b = strconv.AppendFloat(b, p.pitch, 'f', 2, 64)
		b = append(b, `,"roll":0},"state":"`...)
		b = append(b, states[rng.IntN(len(states))]...)
		b = append(b, `","flags":{"grounded":`...)
		b = strconv.AppendBool(b, rng.IntN(5) != 0)
		b = append(b, `,"sprinting":`...)
		b = strconv.AppendBool(b, rng.IntN(3) == 0)
		b = append(b, `,"firing":`...)
		b = strconv.AppendBool(b, rng.IntN(8) == 0)
		b = append(b, `,"ads":`...)
		b = strconv.AppendBool(b, rng.IntN(6) == 0)
		b = append(b, `},"hp":`...)
		b = strconv.AppendInt(b, int64(rng.IntN(101)), 10)
		b = append(b, `,"weapon":"`...)
		b = append(b, [...]string{"rifle", "smg", "shotgun", "pistol", "sniper"}[rng.IntN(5)]...)
		b = append(b, `","ping_ms":`...)
		b = strconv.AppendInt(b, int64(15+rng.IntN(90)), 10)
		b = append(b, '}')
		out[i] = b
	}
	return out
}

// MovementBatch joins msgs into one JSON array, the shape of a tick that
// sends every pending message of a room at once.
func MovementBatch(msgs [][]byte) []byte {
	n := 2
	for _, m := range msgs {
		n += len(m) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m...)
	}
	return append(b, ']')
}
