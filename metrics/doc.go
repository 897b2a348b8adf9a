// Package metrics implements the evaluation metric of egan-ort: foreground
// intersection over union of binary masks (DESIGN.md §2).
//
// A prediction is a mask of probabilities; a pixel is foreground when its
// probability is at least the threshold (0.5 in every reported figure), and
// a truth pixel is foreground when it is at least 0.5. For one image with
// foreground sets A (prediction) and T (truth),
//
//	IoU = |A ∩ T| / |A ∪ T|,   and IoU = 1 when A ∪ T is empty.
//
// Over a split of n images two figures are reported:
//
//	mean IoU   = 1/n Σ_i IoU_i            (the literature's metric)
//	global IoU = Σ_i |A_i ∩ T_i| / Σ_i |A_i ∪ T_i|
//
// Mean IoU weighs every image equally, so small objects count as much as
// large ones; global IoU weighs every pixel equally.
//
// Length mismatches between a prediction and its truth are programmer
// errors and panic with a "metrics:" prefix.
package metrics
