# USB layer (drivers/usb) and the emulated USB bus (phonesim/usb). Pure tests carry the label
# "unit"; tests on the emulated bus (umockdev, real libusb, real processes) carry "usb".
exhibit_test(usb_classify_test usb/classify_test.cpp LIBS exhibit_usb)
exhibit_test(usb_string_descriptor_test usb/string_descriptor_test.cpp LIBS exhibit_usb)
