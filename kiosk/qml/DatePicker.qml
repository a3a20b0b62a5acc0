// A touch date picker: day, month and year each with large + and - keys; Done, No limit
// (clears the date) and Cancel. Emits picked("YYYY-MM-DD" or "").
import QtQuick

Rectangle {
    id: picker
    property string title: ""
    property date value: new Date()
    signal picked(string day)
    signal cancelled()
    color: "#cc000000"
    MouseArea { anchors.fill: parent }

    function open(day) {
        var d = day && day.length === 10 ? new Date(day + "T12:00:00") : new Date()
        value = d
        visible = true
    }
    function shift(part, by) {
        var d = new Date(value.getTime())
        if (part === "day") d.setDate(d.getDate() + by)
        if (part === "month") {
            var day = d.getDate()
            d.setDate(1)
            d.setMonth(d.getMonth() + by)
            var last = new Date(d.getFullYear(), d.getMonth() + 1, 0).getDate()
            d.setDate(Math.min(day, last))
        }
        if (part === "year") d.setFullYear(d.getFullYear() + by)
        value = d
    }
    function iso(d) {
        function two(n) { return n < 10 ? "0" + n : "" + n }
        return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate())
    }

    Rectangle {
        anchors.centerIn: parent
        width: Math.min(parent.width * 0.9, Theme.px(1100))
        height: content.implicitHeight + Theme.px(60)
        radius: Theme.radius
        color: Theme.background
        Column {
            id: content
            anchors.centerIn: parent
            width: parent.width - Theme.px(60)
            spacing: Theme.gap
            Heading { text: picker.title; width: parent.width }
            Row {
                anchors.horizontalCenter: parent.horizontalCenter
                spacing: Theme.gap
                Repeater {
                    model: [
                        { part: "day", text: picker.value.getDate() },
                        { part: "month", text: Qt.locale("en_GB").monthName(picker.value.getMonth(), Locale.ShortFormat) },
                        { part: "year", text: picker.value.getFullYear() }
                    ]
                    delegate: Column {
                        spacing: Theme.px(10)
                        BigButton {
                            objectName: "picker_" + modelData.part + "_up"
                            width: Theme.px(260); implicitWidth: width
                            primary: false
                            text: "+"
                            onClicked: picker.shift(modelData.part, 1)
                        }
                        Text {
                            objectName: "picker_" + modelData.part
                            width: Theme.px(260)
                            horizontalAlignment: Text.AlignHCenter
                            font.family: Theme.family
                            font.pixelSize: Theme.fontHuge
                            font.bold: true
                            color: Theme.text
                            text: modelData.text
                        }
                        BigButton {
                            objectName: "picker_" + modelData.part + "_down"
                            width: Theme.px(260); implicitWidth: width
                            primary: false
                            text: "−"
                            onClicked: picker.shift(modelData.part, -1)
                        }
                    }
                }
            }
            Row {
                anchors.horizontalCenter: parent.horizontalCenter
                spacing: Theme.gap
                BigButton {
                    objectName: "picker_cancel"
                    primary: false
                    text: qsTr("Cancel")
                    onClicked: { picker.visible = false; picker.cancelled() }
                }
                BigButton {
                    objectName: "picker_clear"
                    primary: false
                    text: qsTr("No limit")
                    onClicked: { picker.visible = false; picker.picked("") }
                }
                BigButton {
                    objectName: "picker_done"
                    text: qsTr("Done")
                    onClicked: { picker.visible = false; picker.picked(picker.iso(picker.value)) }
                }
            }
        }
    }
}
