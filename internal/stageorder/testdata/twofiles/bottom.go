package twofiles

import "fmt" // not imported by the check: its names stay unresolved, quietly

func down(t *T) {
	var s Shower = T{}
	s.Show()
	f := Helper
	f()
	t.Top()
	fmt.Println(Box[int]{}.Get())
}
