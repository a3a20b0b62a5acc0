// The Ready screen's status line: DFU store link, uploads waiting, last delivery, free space.
import QtQuick

Rectangle {
    id: strip
    color: Theme.panel
    radius: Theme.radius
    implicitHeight: grid.implicitHeight + Theme.px(40)
    Grid {
        id: grid
        anchors.centerIn: parent
        width: parent.width - Theme.px(40)
        columns: 2
        columnSpacing: Theme.gap
        rowSpacing: Theme.px(10)
        Repeater {
            model: [
                { name: "status_dfu", text: kiosk.status.dfuLink, bad: !kiosk.status.dfuOk },
                { name: "status_pending", text: kiosk.status.pending, bad: false },
                { name: "status_last", text: kiosk.status.lastDelivery, bad: false },
                { name: "status_free", text: kiosk.status.freeSpace, bad: kiosk.status.lowDisk }
            ]
            delegate: Text {
                objectName: modelData.name
                width: (grid.width - Theme.gap) / 2
                font.family: Theme.family
                font.pixelSize: Theme.fontSmall
                font.bold: modelData.bad
                color: modelData.bad ? Theme.danger : Theme.text
                wrapMode: Text.WordWrap
                text: modelData.text
            }
        }
    }
}
