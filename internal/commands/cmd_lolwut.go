package commands

// LOLWUT, as Redis 7.0: VERSION 5 draws Georg Nees's "Schotter" in
// braille characters; other versions print the server version (Redis
// 7.0's own LOLWUT is the unstable one). VERSION 6's pixel-art skyline is
// not drawn: it answers as the unstable version does.

import (
	"math"
	"math/rand/v2"
	"strings"
)

const lolwutVersion = "7.0.15"

func init() {
	Register("lolwut", cmdLolwut)
}

func cmdLolwut(c *Ctx) {
	args := c.Args[1:]
	ver := int64(7)
	if len(args) >= 2 && EqualFold(args[0], "version") {
		n, ok := ParseInt(args[1])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		ver, args = int64(uint32(n)), args[2:]
	}
	if ver != 5 {
		c.W.Verbatim("Redis ver. "+lolwutVersion+"\n", "txt")
		return
	}
	p := [3]int64{66, 8, 12} // columns, squares per row, squares per column
	for i := range min(len(args), 3) {
		n, ok := ParseInt(args[i])
		if !ok {
			c.Error(ErrNotInt)
			return
		}
		p[i] = n
	}
	cols := int(min(max(p[0], 1), 1000))
	perRow := int(min(max(p[1], 1), 200))
	perCol := int(min(max(p[2], 1), 200))
	art := schotter(cols, perRow, perCol).braille()
	c.W.Verbatim(art+"\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. "+lolwutVersion+"\n", "txt")
}

// canvas is a grid of on/off pixels.
type canvas struct {
	w, h int
	px   []bool
}

func newCanvas(w, h int) *canvas { return &canvas{w: w, h: h, px: make([]bool, w*h)} }

func (cv *canvas) set(x, y int) {
	if x >= 0 && x < cv.w && y >= 0 && y < cv.h {
		cv.px[x+y*cv.w] = true
	}
}

func (cv *canvas) get(x, y int) bool {
	return x >= 0 && x < cv.w && y >= 0 && y < cv.h && cv.px[x+y*cv.w]
}

// line draws from (x1,y1) to (x2,y2) with Bresenham's algorithm.
func (cv *canvas) line(x1, y1, x2, y2 int) {
	dx, dy := abs(x2-x1), abs(y2-y1)
	sx, sy := 1, 1
	if x1 >= x2 {
		sx = -1
	}
	if y1 >= y2 {
		sy = -1
	}
	err := dx - dy
	for {
		cv.set(x1, y1)
		if x1 == x2 && y1 == y2 {
			return
		}
		e2 := 2 * err
		if e2 > -dy {
			err -= dy
			x1 += sx
		}
		if e2 < dx {
			err += dx
			y1 += sy
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// square draws a square of side size centred on (x,y), turned by angle.
func (cv *canvas) square(x, y int, size, angle float64) {
	r := math.Round(size / math.Sqrt2)
	var px, py [4]int
	k := math.Pi/4 + angle
	for j := range 4 {
		px[j] = int(math.Round(math.Sin(k)*r + float64(x)))
		py[j] = int(math.Round(math.Cos(k)*r + float64(y)))
		k += math.Pi / 2
	}
	for j := range 4 {
		cv.line(px[j], py[j], px[(j+1)%4], py[(j+1)%4])
	}
}

// schotter is the drawing: rows of squares, more and more rotated and
// displaced at random going down.
func schotter(cols, perRow, perCol int) *canvas {
	w := cols * 2
	pad := 0
	if w > 4 {
		pad = 2
	}
	side := float64(w-pad*2) / float64(perRow)
	cv := newCanvas(w, int(side*float64(perCol))+pad*2)
	jitter := func(y int) float64 {
		r := rand.Float64() / float64(perCol) * float64(y)
		if rand.IntN(2) == 1 {
			r = -r
		}
		return r
	}
	for y := range perCol {
		for x := range perRow {
			sx := int(float64(x)*side + side/2 + float64(pad))
			sy := int(float64(y)*side + side/2 + float64(pad))
			angle := 0.0
			if y > 1 {
				angle = jitter(y)
				sx = int(float64(sx) + jitter(y)*side/3)
				sy = int(float64(sy) + jitter(y)*side/3)
			}
			cv.square(sx, sy, side, angle)
		}
	}
	return cv
}

// braille renders the canvas with one braille character per 2x4 pixels.
func (cv *canvas) braille() string {
	var b strings.Builder
	dots := [8][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}}
	for y := 0; y < cv.h; y += 4 {
		for x := 0; x < cv.w; x += 2 {
			bits := 0
			for i, d := range dots {
				if cv.get(x+d[0], y+d[1]) {
					bits |= 1 << i
				}
			}
			b.WriteRune(rune(0x2800 + bits))
		}
		if y != cv.h-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
