# --- exhibitctl and exhibit-verify (owner: tools work) ---
# exhibitctl's pure parts (label "unit", also under ASan/UBSan); its end-to-end journey
# against a real exhibitd lives with the D-Bus tests.
foreach(part failure requests format views progress values)
  exhibit_test(exhibitctl_${part}_test tools/exhibitctl_${part}_test.cpp LIBS exhibitctl_core)
endforeach()

