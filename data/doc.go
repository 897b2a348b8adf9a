// Package data loads the segmentation datasets of egan-ort and turns them
// into the float32 batches that the training graphs read.
//
// # Tensors
//
// An image is a CHW slice of 3·S·S float32 values, RGB scaled to [0,1]; a mask
// is S·S values in {0,1}, 1 for foreground (the horse). A batch of B samples
// is the contiguous concatenation of B images, X of shape [B,3,S,S], and of
// B masks, Y* of shape [B,1,S,S]. Normalisation (DESIGN.md §2) is applied per
// channel c with the statistics of the training split:
//
//	x̂[c,i] = (x[c,i] − μ_c) / σ_c
//	μ_c = (1/NP) Σ_n Σ_i x_n[c,i],   σ_c² = (1/NP) Σ_n Σ_i (x_n[c,i] − μ_c)²
//
// over the N training images of P = S·S pixels each.
//
// # Layouts
//
// Load recognises two layouts of the Weizmann Horse data:
//
//   - the 32x32 split of the structured-prediction literature: images/,
//     masks/ and the name lists train.txt, val.txt and test.txt (ReadSplit
//     gives the rules for those files);
//   - the Weizmann Horse Database as distributed: rgb/ and figure_ground/,
//     paired by file name and split in sorted order into 196/66/66 images
//     (train/val/test) for the 328 images of the full database.
//
// Every mask is first resized onto its own image with nearest-neighbour
// sampling and thresholded at 128 on luminance, then image and mask are
// resized to S×S: the image with a Catmull-Rom kernel, the mask with
// nearest-neighbour sampling. A mask whose aspect ratio differs from its
// image's by more than 5% is refused, since resizing would misalign them.
// rgb/horse318.jpg of the database is all black; it is kept (see
// LoadHorseDB) so that the 196/66/66 protocol stays the literature's.
//
// Synthetic generates a procedural dataset of textured shapes with the
// sizes of the 32x32 split, for runs and tests without the real data.
//
// # Limits
//
// DecodeImage reads only the header of an image before it decodes pixels and
// refuses images above Limits.MaxPixels; the loaders refuse directories and
// split files with more than Limits.MaxFiles entries. Bad input returns an
// error that names the file and wraps one of the sentinel errors (ErrEmpty,
// ErrTruncated, ErrNotImage, ...); wrong use of the API (buffers of the
// wrong length, a negative size) panics with a message prefixed "data: ".
//
// # Randomness
//
// Augmentation and shuffling draw from a math/rand/v2 Rand over a *rand.PCG
// source, whose state MarshalBinary serialises; Loader.State saves it with
// the position in the epoch, so a resumed run draws the same batches.
//
// # Left out on purpose
//
// No colour jitter, rotation or elastic deformation: the literature's 32x32
// protocol trains without them. Images are held in memory as float32, which
// is 12 KiB per 32x32 image and 192 KiB per 128x128 image; a streaming loader
// is not needed at the sizes of the Weizmann data.
package data
