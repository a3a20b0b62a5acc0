// 7. Copying: progress, Cancel with a confirmation; when the copy stops early, what was kept
// and what was not, in words.
import QtQuick

Item {
    id: root
    objectName: "screen_copying"
    readonly property var session: kiosk.session
    property bool confirming: false

    Column {
        anchors { left: parent.left; right: parent.right; top: parent.top }
        spacing: Theme.gap
        Text {
            objectName: "copyingTitle"
            width: parent.width
            font.family: Theme.family
            font.pixelSize: Theme.fontHuge
            font.bold: true
            color: Theme.text
            wrapMode: Text.WordWrap
            text: !root.session.finished ? qsTr("Copying: keep the phone plugged in")
                  : root.session.state === "completed" ? qsTr("Copy finished") : qsTr("The copy stopped")
        }
        Rectangle {
            objectName: "progressBar"
            width: parent.width
            height: Math.max(48, Theme.px(70))
            radius: Theme.radius
            color: Theme.panel
            border.color: Theme.border
            border.width: Theme.px(3)
            Rectangle {
                width: Math.max(0, Math.min(1, root.session.progress)) * (parent.width - 2 * parent.border.width)
                height: parent.height - 2 * parent.border.width
                x: parent.border.width; y: parent.border.width
                radius: Theme.radius
                color: Theme.primary
            }
            Text {
                anchors.centerIn: parent
                font.family: Theme.family
                font.pixelSize: Theme.fontBody
                font.bold: true
                color: root.session.progress > 0.5 ? Theme.primaryText : Theme.text
                text: Math.floor(root.session.progress * 100) + " %"
            }
        }
        Grid {
            columns: 2
            columnSpacing: Theme.gap * 2
            rowSpacing: Theme.px(12)
            Repeater {
                model: [
                    { key: qsTr("Copied"), name: "copy_bytes", value: root.session.bytesText },
                    { key: qsTr("Items"), name: "copy_items", value: root.session.itemsText },
                    { key: qsTr("Speed"), name: "copy_rate", value: root.session.rateText },
                    { key: qsTr("Time left"), name: "copy_left", value: root.session.timeLeftText }
                ]
                delegate: Row {
                    spacing: Theme.px(16)
                    Text { font.family: Theme.family; font.pixelSize: Theme.fontBody; font.bold: true; color: Theme.text; text: modelData.key + ":" }
                    Text { objectName: modelData.name; font.family: Theme.family; font.pixelSize: Theme.fontBody; color: Theme.text; text: modelData.value }
                }
            }
        }
        Text {
            objectName: "copy_current"
            width: parent.width
            visible: !root.session.finished
            font.family: Theme.family
            font.pixelSize: Theme.fontSmall
            color: Theme.muted
            elide: Text.ElideMiddle
            text: root.session.currentItem.length > 0 ? qsTr("Now: %1").arg(root.session.currentItem) : ""
        }
        ErrorLine {
            objectName: "copyOutcome"
            width: parent.width
            warning: root.session.state !== "failed"
            text: root.session.finished && root.session.state !== "completed" ? root.session.outcome : ""
        }
        ErrorLine {
            width: parent.width
            text: root.session.error
        }
    }

    BigButton {
        objectName: "cancelButton"
        anchors { left: parent.left; bottom: parent.bottom }
        visible: !root.session.finished && !root.confirming
        danger: true
        text: qsTr("Cancel the copy")
        onClicked: root.confirming = true
    }
    BigButton {
        objectName: "toReceiptButton"
        anchors { right: parent.right; bottom: parent.bottom }
        visible: root.session.finished
        text: qsTr("Show the receipt")
        onClicked: kiosk.showReceipt()
    }

    Rectangle {
        objectName: "cancelConfirm"
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        height: confirmColumn.implicitHeight + Theme.px(60)
        visible: root.confirming && !root.session.finished
        color: Theme.warningBg
        border.color: "#8a6d00"
        border.width: Theme.px(4)
        radius: Theme.radius
        Column {
            id: confirmColumn
            anchors.centerIn: parent
            width: parent.width - Theme.px(60)
            spacing: Theme.gap
            Body {
                width: parent.width
                font.bold: true
                text: qsTr("Stop copying? Items already copied whole are kept as evidence; the rest is not copied.")
            }
            Row {
                spacing: Theme.gap
                BigButton {
                    objectName: "confirmCancelNo"
                    primary: false
                    text: qsTr("No, carry on")
                    onClicked: root.confirming = false
                }
                BigButton {
                    objectName: "confirmCancelYes"
                    danger: true
                    text: qsTr("Yes, stop copying")
                    onClicked: { root.confirming = false; root.session.cancel() }
                }
            }
        }
    }
}
