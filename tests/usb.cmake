# USB layer (drivers/usb) and the emulated USB bus (phonesim/usb). Pure tests carry the label
# "unit"; tests on the emulated bus (umockdev, real libusb, real processes) carry "usb".
exhibit_test(usb_classify_test usb/classify_test.cpp LIBS exhibit_usb)
exhibit_test(usb_string_descriptor_test usb/string_descriptor_test.cpp LIBS exhibit_usb)
exhibit_test(usb_device_spec_test usb/device_spec_test.cpp LIBS exhibit_usbsim exhibit_usb)
exhibit_test(usb_phone_list_test usb/phone_list_test.cpp LIBS exhibit_phonesim_usb)

# On the emulated bus, in-process (the umockdev preload is linked in).
exhibit_test(usb_bulk_transport_test usb/bulk_transport_test.cpp
             LIBS exhibit_usb exhibit_usbsim exhibit_umockdev_preload LABEL usb TIMEOUT 180)
exhibit_test(usb_monitor_test usb/usb_monitor_test.cpp
             LIBS exhibit_usb exhibit_usbsim exhibit_umockdev_preload LABEL usb TIMEOUT 120)

# exhibitd's core in-process on the emulated bus, phones served by phonesim's engine.
exhibit_test(usb_devices_test usb/usb_devices_test.cpp
             LIBS exhibit_usb_devices exhibit_usbsim exhibit_phonesim_engine
                  exhibit_umockdev_preload LABEL usb TIMEOUT 120)
exhibit_test(usb_extraction_test usb/usb_extraction_test.cpp
             LIBS exhibit_usb_devices exhibit_usbsim exhibit_phonesim_engine exhibit_test_support
                  exhibit_umockdev_preload LABEL usb TIMEOUT 300)
add_dependencies(usb_extraction_test exhibit-phonesim)

# exhibit-phonesim --usb around real exhibitd and exhibitctl processes (a private D-Bus).
exhibit_test(usb_phonesim_test usb/phonesim_usb_test.cpp
             LIBS exhibit_store exhibit_test_support LABEL usb TIMEOUT 300)
add_dependencies(usb_phonesim_test exhibit-phonesim exhibitd exhibitctl)
