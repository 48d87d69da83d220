"""Draws docs/figures/fields_xdmf_slice.png: a ParaView slice of fields.xmf (docs/outputs.md).

Run by scripts/gen-xdmf-figure.sh as
    xvfb-run -a pvpython tools/xdmf_slice_figure.py RESULTS_DIR OUT.png
RESULTS_DIR is a folder written by `mnsim run examples/04_single_session_pen.toml`. The figure is
the x-z plane through the scar's centre (y = 1.5 mm), coloured by fibroblasts at day 7 (the
weekly snapshot), air above the scar in the NaN colour (white), z up: the skin surface on top.
This is what the same steps do in ParaView's window: File > Open fields.xmf (Xdmf3ReaderS),
Apply, Slice (normal Y), colour by fibroblasts, time 7.
"""
import os
import sys

from paraview import simple


def main(argv):
    run, out = argv[1], argv[2]
    reader = simple.Xdmf3ReaderS(FileName=[f"{run}/fields.xmf"])
    reader.UpdatePipelineInformation()
    times = list(reader.TimestepValues)
    day7 = min(times, key=lambda t: abs(t - 7.0))
    cut = simple.Slice(Input=reader)
    cut.SliceType = "Plane"
    cut.SliceType.Origin = [1500.0, 1500.0, -800.0]
    cut.SliceType.Normal = [0.0, 1.0, 0.0]

    view = simple.CreateRenderView()
    view.ViewSize = [1000, 560]
    view.UseColorPaletteForBackground = 0
    view.Background = [1.0, 1.0, 1.0]
    view.OrientationAxesVisibility = 0
    view.ViewTime = day7
    shown = simple.Show(cut, view)
    simple.ColorBy(shown, ("CELLS", "fibroblasts"))
    shown.Ambient, shown.Diffuse = 1.0, 0.0  # flat colours, no lighting
    lut = simple.GetColorTransferFunction("fibroblasts")
    lut.ApplyPreset("Viridis (matplotlib)", True)
    lut.NanColor = [1.0, 1.0, 1.0]
    shown.RescaleTransferFunctionToDataRange(False, True)
    bar = simple.GetScalarBar(lut, view)
    bar.Title = "fibroblasts (cells/mm^3)"
    bar.ComponentTitle = ""
    bar.TitleColor = bar.LabelColor = [0.0, 0.0, 0.0]
    bar.WindowLocation = "Any Location"
    bar.Position = [0.87, 0.12]
    bar.RangeLabelFormat = "%.0f"
    bar.ScalarBarLength = 0.7
    shown.SetScalarBarVisibility(view, True)
    axes = view.AxesGrid
    axes.Visibility = 1
    axes.XTitle = "x (um)"
    axes.YTitle = "y (um)"
    axes.FacesToRender = 2 | 16  # the x-z faces only
    axes.AxesToLabel = 1 | 4  # x and z labels at the minimum edges
    axes.ZTitle = "z (um)"
    for c in ("XTitleColor", "YTitleColor", "ZTitleColor", "XLabelColor", "YLabelColor",
              "ZLabelColor", "GridColor"):
        setattr(axes, c, [0.0, 0.0, 0.0])
    label = simple.Text(Text=f"fields.xmf, time {day7:g} days (day 7.0), slice y = 1500 um")
    lshown = simple.Show(label, view)
    lshown.Color = [0.0, 0.0, 0.0]
    lshown.WindowLocation = "Upper Center"
    lshown.FontSize = 14
    # Look along +y at the x-z plane, z up.
    view.CameraPosition = [2000.0, -8000.0, -800.0]
    view.CameraFocalPoint = [2000.0, 1500.0, -800.0]
    view.CameraViewUp = [0.0, 0.0, 1.0]
    view.CameraParallelProjection = 1
    simple.ResetCamera(view)
    view.CameraParallelScale = 1250.0
    simple.SaveScreenshot(out, view, ImageResolution=[1000, 560])
    print(out, flush=True)
    # Debian's ParaView under xvfb fails in its OpenGL teardown at exit (GLXBadContext) after
    # the image is written: leave without it.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
