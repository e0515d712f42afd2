import Engine
import Imaging

/// The PNG grids of an explanation: 10 samples per row, each scaled ×4 (28×28 → 112×112).
public enum ExplanationImages {
  /// A grid of images (N,C,H,W) in [0,1], `columns` per row.
  public static func grid(_ images: Tensor, columns: Int = 10) -> PNGImage {
    ImageGrid(
      values: images.scalars, count: images.shape[0], channels: images.shape[1], height: images.shape[2],
      width: images.shape[3], columns: columns, scale: 4
    ).image()
  }
}
